import type { Context, Env, Hono } from 'hono';
import type { OAuthClient } from '../../github/oauth-user.js';
import type { RunLedger } from '../../ledger/index.js';
import type { IntakeJob } from '../../queue/jobs.js';
import type { Queues } from '../../queue/queues.js';
import type { Logger } from '../../util/logger.js';
import { dashboardGuard } from '../dashboard-guard.js';
import { createAccess, type PermissionLookup } from './access.js';
import { ASSET_PATHS, DASHBOARD_CSS, DASHBOARD_JS } from './assets.js';
import { mountQueuesBoard } from './queues-board.js';
import { mountRunRoutes } from './routes.js';
import { readSession, type Viewer } from './sessions.js';
import { mountSignInRoutes } from './sign-in-routes.js';

export interface DashboardOptions {
  readonly ledger: RunLedger;
  readonly logger: Logger;
  /** Web root of the GitHub host (`https://github.com`, a GHES root) for issue and PR links; none: no links. */
  readonly webUrl?: string;
  /**
   * Sign-in (admin token and/or GitHub). Unset: the fallback guard (`password`: HTTP basic auth;
   * none: this machine only) lets readers in, and nothing can be pressed.
   */
  readonly signIn?: {
    readonly token?: string;
    readonly oauth?: OAuthClient;
    /** Signs the session cookies (see `sessionSecret`). */
    readonly secret: string;
    readonly publicUrl?: string;
  };
  /** `DROIDWORKS_DASHBOARD_PASSWORD`, for the fallback guard. */
  readonly password?: string;
  /** What a GitHub user may do on a repository (the App's collaborator permission look-up). */
  readonly permission?: PermissionLookup;
  /** Queues a command job (the gateway's intake writer); none: no buttons. */
  readonly submitCommand?: (job: IntakeJob) => Promise<unknown>;
  readonly commandPrefix: string;
  /** The login commands pressed by the admin are sent as. */
  readonly adminLogin: string;
  /** Mounts bull-board at `/admin/queues` (admin only). */
  readonly queues?: Queues;
  /** How often live pages look for new ledger events. @defaultValue 500 ms */
  readonly pollMs?: number;
}

const GUARDED = ['/runs', '/runs/*', '/api/runs', '/api/runs/*'];

/**
 * The dashboard on the gateway's app: assets, sign-in, run pages with live updates and controls,
 * and the queues board. Only its own paths get middleware: the webhook route is never touched.
 */
export function mountDashboard<E extends Env>(app: Hono<E>, o: DashboardOptions): void {
  const log = o.logger.child({ component: 'dashboard' });
  const signIn = o.signIn && (o.signIn.token || o.signIn.oauth) ? o.signIn : undefined;
  let viewer: (c: Context) => Promise<Viewer | undefined>;
  if (signIn) {
    viewer = (c) => readSession(c, signIn.secret);
    mountSignInRoutes(app, {
      token: signIn.token,
      oauth: signIn.oauth,
      secret: signIn.secret,
      publicUrl: signIn.publicUrl,
      logger: o.logger,
    });
  } else {
    const guard = dashboardGuard(o.password);
    for (const path of GUARDED) app.use(path, guard);
    viewer = async () => ({ kind: 'guard' });
  }

  const immutable = 'public, max-age=31536000, immutable';
  app.get(ASSET_PATHS.css, (c) =>
    c.body(DASHBOARD_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': immutable }),
  );
  app.get(ASSET_PATHS.js, (c) =>
    c.body(DASHBOARD_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': immutable,
    }),
  );

  mountRunRoutes(app, {
    ledger: o.ledger,
    access: createAccess(o.permission, log),
    viewer,
    submitCommand: o.submitCommand,
    commandPrefix: o.commandPrefix,
    adminLogin: o.adminLogin,
    webUrl: o.webUrl,
    logger: o.logger,
    pollMs: o.pollMs,
  });
  if (o.queues) mountQueuesBoard(app, o.queues, viewer);
}
