import type { Context } from 'hono';
import { html } from 'hono/html';
import { ASSET_PATHS } from '../assets.js';
import type { Viewer } from '../sessions.js';
import type { Html } from './format.js';

/** Pages load only the gateway's own stylesheet and script, and talk only to the gateway. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface PageOptions {
  readonly status?: 200 | 400 | 401 | 403 | 404 | 502;
  readonly title: string;
  readonly body: Html;
  /** Unset: not signed in (the sign-in page). */
  readonly viewer?: Viewer;
}

export function page(c: Context, o: PageOptions) {
  securityHeaders(c);
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>${o.title}</title>
          <link rel="stylesheet" href="${ASSET_PATHS.css}" />
          <script src="${ASSET_PATHS.js}" defer></script>
        </head>
        <body>
          <header>
            <a href="/runs">droidworks</a>
            ${o.viewer?.kind === 'admin' ? html`<a href="/admin/queues">queues</a>` : ''}
            ${o.viewer ? who(o.viewer) : ''}
          </header>
          <main>${o.body}</main>
        </body>
      </html>`,
    o.status ?? 200,
  );
}

function who(viewer: Viewer): Html {
  if (viewer.kind === 'guard') return html``;
  return html`<span class="who"
    >${viewer.kind === 'admin' ? 'admin' : html`@${viewer.login}`}
    <form method="post" action="/logout">
      <input type="hidden" name="csrf" value="${viewer.csrf}" /><button type="submit">Sign out</button>
    </form></span
  >`;
}

export function securityHeaders(c: Context): void {
  c.header('content-security-policy', PAGE_CSP);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('cache-control', 'no-store');
}
