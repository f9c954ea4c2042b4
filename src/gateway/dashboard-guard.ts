import { getConnInfo } from '@hono/node-server/conninfo';
import type { MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Whether a remote address is this machine's loopback. Pure. */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}

/**
 * Who may read the dashboard. The gateway's port usually faces the internet (GitHub must reach the
 * webhook route), and run pages show plans, model text and tool errors: with a password, HTTP basic
 * auth (user `droidworks`); without one, only clients on this machine.
 */
export function dashboardGuard(password: string | undefined): MiddlewareHandler {
  if (password) return basicAuth({ username: 'droidworks', password, realm: 'droidworks dashboard' });
  return async (c, next) => {
    if (isLoopback(getConnInfo(c).remote.address)) return next();
    return c.text(
      'The dashboard is only open to this machine. Set DROIDWORKS_DASHBOARD_PASSWORD to open it to others (HTTP basic auth, user droidworks).',
      403,
    );
  };
}
