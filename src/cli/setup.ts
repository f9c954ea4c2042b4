import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import { convertAppManifest, type CreatedApp } from '../github/convert-app-manifest.js';
import { gitBaseUrl } from './context.js';

/** Options of `droidworks setup`. */
export interface SetupOptions {
  /** droidworks' public address (webhooks arrive at `<publicUrl>/webhooks/github`). */
  readonly publicUrl: string | undefined;
  /** Create the App under this organisation. @defaultValue the signed-in user's account */
  readonly org?: string;
  /** REST API base, `https://host/api/v3` for GitHub Enterprise Server. */
  readonly apiUrl: string;
  /** @defaultValue the manifest's `name` (`droidworks`) */
  readonly name?: string;
  /** Local port of the setup page. @defaultValue 0 (any free port) */
  readonly port?: number;
  /** The `.env` file to write. */
  readonly envFile: string;
  /** @defaultValue `<slug>-<app id>.private-key.pem` next to the `.env` file (a new name for every App) */
  readonly keyFile?: string;
  /** Overwrite an existing key file, and replace the App's settings in an existing `.env`. */
  readonly force: boolean;
  /** Where the narration goes (a line at a time). */
  readonly out: (line: string) => void;
  /** Told the setup page's address once it listens (tests drive a browser there). */
  readonly onListening?: (url: string) => void;
  readonly signal?: AbortSignal;
  /** How long to wait for the browser. @defaultValue 15 minutes */
  readonly timeoutMs?: number;
}

/** A setup problem the user can fix; printed as is. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** The manifest template shipped with the package. */
export const MANIFEST_TEMPLATE = new URL('../../infra/github-app-manifest.json', import.meta.url);
/** The template's placeholder origin, replaced by the public URL. */
const PLACEHOLDER = 'https://droidworks.example.com';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * The manifest to post: the template with every URL on the placeholder host moved to `publicUrl`,
 * `redirect_url` pointed at the local setup server, and the name replaced when given. Pure.
 */
export function buildManifest(
  template: Record<string, Json>,
  o: { readonly publicUrl: string; readonly redirectUrl: string; readonly name?: string },
): Record<string, Json> {
  const base = o.publicUrl.replace(/\/+$/, '');
  const move = (value: Json): Json => {
    if (typeof value === 'string')
      return value.startsWith(PLACEHOLDER) ? base + value.slice(PLACEHOLDER.length) : value;
    if (Array.isArray(value)) return value.map(move);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, move(v)]));
    return value;
  };
  const manifest = move(template) as Record<string, Json>;
  return { ...manifest, ...(o.name ? { name: o.name } : {}), redirect_url: o.redirectUrl };
}

/** Where the browser posts the manifest: the user's or the organisation's "new App" page. Pure. */
export function newAppUrl(apiUrl: string, org: string | undefined, state: string): string {
  const web = gitBaseUrl(apiUrl);
  const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : '/settings/apps/new';
  return `${web}${path}?state=${encodeURIComponent(state)}`;
}

/** The settings `setup` owns in `.env`, in the order written. */
export const SETUP_KEYS = [
  'GITHUB_APP_ID',
  'GITHUB_PRIVATE_KEY_PATH',
  'GITHUB_WEBHOOK_SECRET',
  'GITHUB_CLIENT_ID',
  'GITHUB_CLIENT_SECRET',
  'DROIDWORKS_BOT_LOGIN',
  'DROIDWORKS_PUBLIC_URL',
  'GITHUB_API_URL',
] as const;

/**
 * The new `.env`: the lines of `existing` that set none of {@link SETUP_KEYS} (other settings are
 * kept), then the App's settings. Pure.
 */
export function envFileText(
  existing: string,
  app: CreatedApp,
  o: { readonly keyPath: string; readonly publicUrl: string; readonly apiUrl: string; readonly now: Date },
): string {
  const ours = new RegExp(`^\\s*(?:export\\s+)?(?:${SETUP_KEYS.join('|')})\\s*=`);
  const kept = existing
    .split('\n')
    .filter((line) => !ours.test(line))
    .join('\n')
    .trimEnd();
  const values: Record<(typeof SETUP_KEYS)[number], string | undefined> = {
    GITHUB_APP_ID: String(app.id),
    GITHUB_PRIVATE_KEY_PATH: o.keyPath,
    GITHUB_WEBHOOK_SECRET: app.webhookSecret,
    GITHUB_CLIENT_ID: app.clientId,
    GITHUB_CLIENT_SECRET: app.clientSecret,
    DROIDWORKS_BOT_LOGIN: `${app.slug}[bot]`,
    DROIDWORKS_PUBLIC_URL: o.publicUrl,
    GITHUB_API_URL: o.apiUrl === 'https://api.github.com' ? undefined : o.apiUrl,
  };
  const lines = SETUP_KEYS.filter((k) => values[k] !== undefined).map(
    (k) => `${k}=${JSON.stringify(values[k])}`,
  );
  return `${kept ? `${kept}\n\n` : ''}# GitHub App "${app.name}" (${app.htmlUrl}), written by droidworks setup on ${o.now.toISOString()}\n${lines.join('\n')}\n`;
}

/**
 * `droidworks setup`: GitHub's App manifest flow from the terminal. Serves a page on this machine
 * that posts the manifest to GitHub; GitHub sends the browser back with a one-time code, which is
 * exchanged for the App's id, private key, webhook secret and OAuth client; they are written to
 * `.env` and a key file, both mode 600. Returns the exit code.
 */
export async function runSetup(o: SetupOptions): Promise<number> {
  try {
    return await setup(o);
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    o.out(`droidworks setup: ${err.message}`);
    return 2;
  }
}

async function setup(o: SetupOptions): Promise<number> {
  if (!o.publicUrl)
    throw new SetupError(
      "needs droidworks' public address for webhooks: --url https://droidworks.example.com (or DROIDWORKS_PUBLIC_URL)",
    );
  if (!/^https?:\/\/[^/]+/.test(o.publicUrl))
    throw new SetupError(`--url must be an absolute http(s) URL, not "${o.publicUrl}"`);
  const publicUrl = o.publicUrl.replace(/\/+$/, '');
  const envPath = resolve(o.envFile);
  const existingEnv = await readOptional(envPath);
  if (existingEnv !== undefined && !o.force)
    throw new SetupError(
      `${envPath} exists; run again with --force to replace its GitHub App settings (others are kept)`,
    );
  if (o.keyFile && !o.force && (await readOptional(resolve(o.keyFile))) !== undefined)
    throw new SetupError(`${resolve(o.keyFile)} exists; run again with --force to replace it`);
  const template = JSON.parse(await readFile(MANIFEST_TEMPLATE, 'utf8')) as Record<string, Json>;

  const state = randomBytes(16).toString('hex');
  let settle: { ok: (code: string) => void; fail: (err: Error) => void } | undefined;
  const codeArrived = new Promise<string>((ok, fail) => (settle = { ok, fail }));
  let finishPage: Promise<string> | undefined;
  let manifestJson = '';
  let formAction = '';

  const done = (async () => {
    const code = await codeArrived;
    const app = await convertAppManifest(o.apiUrl, code, { signal: o.signal });
    const keyPath = resolve(o.keyFile ?? `${dirname(envPath)}/${app.slug}-${app.id}.private-key.pem`);
    await writeSecretFile(keyPath, app.pem, o.force);
    const latest = await readOptional(envPath);
    if (latest !== undefined && !o.force)
      throw new SetupError(`${envPath} appeared meanwhile; nothing overwritten`);
    await writeSecretFile(
      envPath,
      envFileText(latest ?? '', app, { keyPath, publicUrl, apiUrl: o.apiUrl, now: new Date() }),
      true,
    );
    o.out(`Created the GitHub App "${app.name}" (id ${app.id}) owned by ${app.owner}.`);
    o.out(`Wrote ${envPath} and ${keyPath} (both mode 600).`);
    return `${app.htmlUrl}/installations/new`;
  })();
  // The page answers from `done`; the terminal reports it too. Neither leaves it unhandled.
  done.catch(() => undefined);

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string): void => {
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; form-action *",
      });
      res.end(
        `<!doctype html><html><head><meta charset="utf-8"><title>droidworks setup</title></head><body>${body}</body></html>`,
      );
    };
    if (req.method === 'GET' && url.pathname === '/') {
      send(
        200,
        `<h1>Create the droidworks GitHub App</h1>
<p>This sends the App's manifest to GitHub, which asks you to confirm.</p>
<form id="manifest-form" method="post" action="${esc(formAction)}">
<input type="hidden" name="manifest" value="${esc(manifestJson)}">
<button type="submit">Create the GitHub App on ${esc(new URL(formAction).host)}</button>
</form>
<script>document.getElementById('manifest-form').submit();</script>`,
      );
    } else if (req.method === 'GET' && url.pathname === '/callback') {
      const code = url.searchParams.get('code');
      if (url.searchParams.get('state') !== state || !code) {
        send(
          400,
          '<h1>This link is not from the setup that is running</h1><p>Start again from the terminal.</p>',
        );
        return;
      }
      if (!finishPage) {
        settle?.ok(code);
        finishPage = done.then(
          (installUrl) =>
            `<h1>The GitHub App is ready</h1><p>Its credentials are in <code>${esc(envPath)}</code>.</p><p><a id="install" href="${esc(installUrl)}">Install it on your repositories</a>, then run <code>droidworks start</code>.</p>`,
          (err: unknown) =>
            `<h1>Setup failed</h1><p>${esc(err instanceof Error ? err.message : String(err))}</p>`,
        );
      }
      void finishPage.then((page) => send(200, page));
    } else {
      send(404, '<h1>Not found</h1>');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err) =>
      fail(new SetupError(`cannot listen on 127.0.0.1:${o.port ?? 0}: ${err.message}`, { cause: err })),
    );
    server.listen(o.port ?? 0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  const local = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  manifestJson = JSON.stringify(
    buildManifest(template, { publicUrl, redirectUrl: `${local}/callback`, name: o.name }),
  );
  formAction = newAppUrl(o.apiUrl, o.org, state);

  const timeout = AbortSignal.timeout(o.timeoutMs ?? 15 * 60_000);
  const stop = AbortSignal.any([timeout, ...(o.signal ? [o.signal] : [])]);
  const onStop = (): void =>
    settle?.fail(
      new SetupError(
        timeout.aborted ? 'no answer from GitHub in time; run setup again' : 'setup was cancelled',
      ),
    );
  stop.addEventListener('abort', onStop, { once: true });

  o.out(`Open ${local} in a browser signed in to GitHub to create the App (on ${new URL(formAction).host}).`);
  o.onListening?.(local);
  try {
    const installUrl = await done;
    o.out(`Install it on your repositories: ${installUrl}`);
    o.out('Then run: npx droidworks start');
    return 0;
  } catch (err) {
    if (err instanceof SetupError) throw err;
    o.out(`droidworks setup: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    stop.removeEventListener('abort', onStop);
    // Let the browser receive the last page before the server goes away.
    await finishPage;
    await new Promise<void>((ok) => server.close(() => ok()));
    server.closeAllConnections();
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a file only its owner can read (mode 600): atomically with `overwrite`, else never over an existing one. */
async function writeSecretFile(path: string, text: string, overwrite: boolean): Promise<void> {
  if (!overwrite) {
    try {
      await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new SetupError(`${path} exists; run again with --force to replace it`, { cause: err });
      throw err;
    }
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
