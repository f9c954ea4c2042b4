import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, Env, Hono } from 'hono';
import type { Queues } from '../../queue/queues.js';
import type { Viewer } from './sessions.js';

export const QUEUES_PATH = '/admin/queues';

/**
 * bull-board at `/admin/queues`, for the admin only (its UI can retry, promote and delete jobs).
 * Others get 403; anyone not signed in goes to the sign-in page. Its own assets come from the
 * installed `@bull-board/ui` package, served by the gateway.
 */
export function mountQueuesBoard<E extends Env>(
  app: Hono<E>,
  queues: Queues,
  viewer: (c: Context) => Promise<Viewer | undefined>,
): void {
  const adapter = new HonoAdapter(serveStatic).setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queues.intake), new BullMQAdapter(queues.runs)],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'droidworks queues' } },
  });
  const adminOnly = async (c: Context, next: () => Promise<void>) => {
    const who = await viewer(c);
    if (!who) return c.redirect(`/login?next=${encodeURIComponent(QUEUES_PATH)}`, 302);
    if (who.kind !== 'admin')
      return c.text('The queues are for the admin only (sign in with DROIDWORKS_DASHBOARD_TOKEN).', 403);
    await next();
    return undefined;
  };
  app.use(QUEUES_PATH, adminOnly);
  app.use(`${QUEUES_PATH}/*`, adminOnly);
  app.route(QUEUES_PATH, adapter.registerPlugin());
}
