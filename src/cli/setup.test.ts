import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startForge, type Forge } from '../demo/forge/start-forge.js';
import { convertAppManifest, type CreatedApp } from '../github/convert-app-manifest.js';
import { GITHUB_CALLBACK_PATH } from '../gateway/dashboard/sign-in-routes.js';
import { buildManifest, envFileText, MANIFEST_TEMPLATE, newAppUrl } from './setup.js';

const template = JSON.parse(readFileSync(MANIFEST_TEMPLATE, 'utf8')) as Parameters<typeof buildManifest>[0];

describe('buildManifest', () => {
  it('moves every placeholder URL to the public URL and points redirect_url at the local server', () => {
    const m = buildManifest(template, {
      publicUrl: 'https://dw.acme.dev/',
      redirectUrl: 'http://127.0.0.1:4567/callback',
      name: 'Acme droid',
    });
    expect(m).toMatchObject({
      name: 'Acme droid',
      url: 'https://dw.acme.dev/',
      hook_attributes: { url: 'https://dw.acme.dev/webhooks/github', active: true },
      setup_url: 'https://dw.acme.dev/runs',
      callback_urls: ['https://dw.acme.dev/login/github/callback'],
      redirect_url: 'http://127.0.0.1:4567/callback',
      default_permissions: template.default_permissions,
      default_events: template.default_events,
    });
    expect(JSON.stringify(m)).not.toContain('droidworks.example.com');
  });

  it("gives the App the dashboard's sign-in callback (GitHub refuses any other redirect)", () => {
    const template = JSON.parse(readFileSync(MANIFEST_TEMPLATE, 'utf8')) as Record<string, never>;
    const manifest = buildManifest(template, {
      publicUrl: 'https://dw.acme.dev',
      redirectUrl: 'http://127.0.0.1:1/callback',
    });
    expect(manifest.callback_urls).toEqual([`https://dw.acme.dev${GITHUB_CALLBACK_PATH}`]);
  });

  it('keeps the template name without --name', () => {
    expect(buildManifest(template, { publicUrl: 'https://x.dev', redirectUrl: 'http://l/c' }).name).toBe(
      'droidworks',
    );
  });
});

describe('newAppUrl', () => {
  it.each([
    ['https://api.github.com', undefined, 'https://github.com/settings/apps/new?state=s1'],
    ['https://api.github.com', 'acme', 'https://github.com/organizations/acme/settings/apps/new?state=s1'],
    ['https://ghe.acme.dev/api/v3', undefined, 'https://ghe.acme.dev/settings/apps/new?state=s1'],
    [
      'https://ghe.acme.dev/api/v3',
      'a b',
      'https://ghe.acme.dev/organizations/a%20b/settings/apps/new?state=s1',
    ],
  ])('%s, org %s → %s', (api, org, expected) => {
    expect(newAppUrl(api, org, 's1')).toBe(expected);
  });
});

describe('envFileText', () => {
  const app: CreatedApp = {
    id: 42,
    slug: 'acme-droid',
    name: 'Acme droid',
    htmlUrl: 'https://github.com/apps/acme-droid',
    owner: 'acme',
    pem: 'PEM',
    webhookSecret: 'whsec',
    clientId: 'Iv23abc',
    clientSecret: 'cs',
  };
  const o = {
    keyPath: '/srv/dw/acme-droid-42.private-key.pem',
    publicUrl: 'https://dw.acme.dev',
    now: new Date(0),
  };

  it.each([
    ['an empty file', '', {}],
    [
      'other settings, kept, and old App settings, replaced',
      'OPENAI_API_KEY=sk-1\nexport GITHUB_APP_ID=1\nGITHUB_WEBHOOK_SECRET = old\n# a comment\n',
      { OPENAI_API_KEY: 'sk-1' },
    ],
  ])('%s', (_what, existing, kept) => {
    const text = envFileText(existing, app, { ...o, apiUrl: 'https://api.github.com' });
    expect(parseEnv(text)).toEqual({
      ...kept,
      GITHUB_APP_ID: '42',
      GITHUB_PRIVATE_KEY_PATH: o.keyPath,
      GITHUB_WEBHOOK_SECRET: 'whsec',
      GITHUB_CLIENT_ID: 'Iv23abc',
      GITHUB_CLIENT_SECRET: 'cs',
      DROIDWORKS_BOT_LOGIN: 'acme-droid[bot]',
      DROIDWORKS_PUBLIC_URL: 'https://dw.acme.dev',
    });
    expect(text).not.toContain('PEM');
  });

  it('records GitHub Enterprise API URLs', () => {
    const text = envFileText('', app, { ...o, apiUrl: 'https://ghe.acme.dev/api/v3' });
    expect(parseEnv(text).GITHUB_API_URL).toBe('https://ghe.acme.dev/api/v3');
  });
});

describe('the simulator manifest flow and convertAppManifest', () => {
  let forge: Forge | undefined;
  afterEach(async () => {
    await forge?.close();
    forge = undefined;
  });

  /** Posts the confirmation form as the browser would, returning the redirect with the code. */
  async function confirm(
    f: Forge,
    manifest: Record<string, unknown>,
    path = '/settings/apps/new',
  ): Promise<URL> {
    const res = await fetch(`${f.webUrl}${path}/confirm`, {
      method: 'POST',
      body: new URLSearchParams({ manifest: JSON.stringify(manifest), state: 'st' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') ?? '');
  }

  it('converts a code once, into an App that authenticates', async () => {
    forge = await startForge();
    const manifest = buildManifest(template, {
      publicUrl: 'https://dw.acme.dev',
      redirectUrl: 'http://127.0.0.1:1/cb',
    });
    const redirect = await confirm(forge, manifest);
    expect(redirect.origin + redirect.pathname).toBe('http://127.0.0.1:1/cb');
    expect(redirect.searchParams.get('state')).toBe('st');
    const code = redirect.searchParams.get('code') ?? '';
    const app = await convertAppManifest(forge.url, code);
    expect(app).toMatchObject({
      slug: 'droidworks',
      owner: 'octocat',
      htmlUrl: `${forge.webUrl}/apps/droidworks`,
    });
    expect(app.pem).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(forge.state.app?.id).toBe(app.id);
    await expect(convertAppManifest(forge.url, code)).rejects.toThrow(/code is unknown, used or expired/);
  });

  it('shows problems of an invalid manifest instead of a code', async () => {
    forge = await startForge();
    const res = await fetch(`${forge.webUrl}/settings/apps/new?state=s`, {
      method: 'POST',
      body: new URLSearchParams({ manifest: JSON.stringify({ name: '', url: 'ftp://x' }) }),
    });
    expect(res.status).toBe(422);
    const page = await res.text();
    expect(page).toContain('name is required');
    expect(page).toContain('url must be an http(s) URL');
  });
});
