import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createGitHubHost } from '../../src/github/create-github-host.js';
import { createWebhookVerifier } from '../../src/github/verify-webhook.js';
import { launchChromium, requireChromium } from '../support/chromium.js';
import { startForge, type Forge } from '../support/github-simulator.js';
import { waitFor } from '../support/wait-for.js';

const hasChromium = requireChromium();
const root = join(import.meta.dirname, '..', '..');

interface Delivery {
  readonly event: string;
  readonly signature: string;
  readonly body: string;
}

/** Where the App's webhooks go: a real HTTP server standing in for droidworks' public address. */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({
        event: String(req.headers['x-github-event']),
        signature: String(req.headers['x-hub-signature-256']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, deliveries, server };
}

/** `droidworks setup` as a user runs it (the CLI from source), its output collected. */
function runCli(
  args: string[],
  cwd: string,
): { child: ChildProcess; output: () => string; exit: Promise<number> } {
  let output = '';
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href,
      join(root, 'src/cli/main.ts'),
      ...args,
    ],
    {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number>((ok) => child.on('exit', (code) => ok(code ?? -1)));
  return { child, output: () => output, exit };
}

describe('droidworks setup (GitHub App manifest flow)', () => {
  let forge: Forge | undefined;
  let browser: Browser | undefined;
  let receiver: Server | undefined;
  let dir: string | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill('SIGTERM');
    await browser?.close();
    await forge?.close();
    receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    forge = browser = receiver = dir = child = undefined;
  });

  it.skipIf(!hasChromium)(
    'creates an organisation App in the browser and writes working credentials to .env',
    async () => {
      forge = await startForge();
      await forge.createRepo({ owner: 'acme', name: 'widgets' });
      const hooks = await startReceiver();
      receiver = hooks.server;
      dir = await mkdtemp(join(tmpdir(), 'dw-setup-'));
      await writeFile(join(dir, '.env'), 'ANTHROPIC_API_KEY=kept-as-is\nGITHUB_APP_ID=1\n');

      const cli = runCli(
        [
          'setup',
          '--url',
          hooks.url,
          '--org',
          'acme',
          '--github-url',
          forge.url,
          '--name',
          'Acme Droid',
          '--force',
        ],
        dir,
      );
      child = cli.child;
      const local = await waitFor(
        'the setup page address',
        () => {
          if (cli.child.exitCode !== null) throw new Error(`setup exited early:\n${cli.output()}`);
          return /Open (http:\/\/127\.0\.0\.1:\d+) in a browser/.exec(cli.output())?.[1];
        },
        120_000,
      );

      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(local);
      // The setup page posts the manifest to GitHub's organisation "new App" page by itself.
      await page.waitForURL(/\/organizations\/acme\/settings\/apps\/new/);
      expect(await page.locator('#app-name').innerText()).toBe('Acme Droid');
      expect(await page.locator('body').innerText()).toContain(`${hooks.url}/webhooks/github`);
      await page.screenshot({ path: '/tmp/setup-confirm.png' });
      await page.locator('#create-app').click();
      await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
      const install = page.locator('#install');
      await install.waitFor();
      expect(await install.getAttribute('href')).toBe(`${forge.webUrl}/apps/acme-droid/installations/new`);
      await page.screenshot({ path: '/tmp/setup-done.png' });
      expect(await cli.exit).toBe(0);
      expect(cli.output()).toContain(
        `Install it on your repositories: ${forge.webUrl}/apps/acme-droid/installations/new`,
      );
      expect(cli.output()).toContain('npx droidworks start');

      const envPath = join(dir, '.env');
      const env = parseEnv(await readFile(envPath, 'utf8')) as Record<string, string>;
      expect((await stat(envPath)).mode & 0o777).toBe(0o600);
      expect(env.ANTHROPIC_API_KEY).toBe('kept-as-is');
      expect(env.GITHUB_APP_ID).toBe(String(forge.state.app?.id));
      expect(env.DROIDWORKS_BOT_LOGIN).toBe('acme-droid[bot]');
      expect(env.GITHUB_API_URL).toBe(forge.url);
      expect(env.DROIDWORKS_PUBLIC_URL).toBe(hooks.url);
      expect(env.GITHUB_CLIENT_ID).toMatch(/\w/);
      expect(env.GITHUB_CLIENT_SECRET).toMatch(/\w/);
      const keyPath = env.GITHUB_PRIVATE_KEY_PATH ?? '';
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
      expect(cli.output()).not.toContain(env.GITHUB_WEBHOOK_SECRET);
      expect(forge.state.app?.owner.login).toBe('acme');

      // `droidworks start` accepts the written settings as they are…
      const config = loadConfig({}, { envFile: envPath, require: ['gateway', 'worker'] });
      expect(config.github.auth?.kind).toBe('app');
      expect(config.github.apiUrl).toBe(forge.url);
      // …and they work: the App authenticates with its key…
      const github = createGitHubHost({
        apiUrl: forge.url,
        auth: { kind: 'app', appId: env.GITHUB_APP_ID ?? '', privateKey: await readFile(keyPath, 'utf8') },
        webhookSecret: env.GITHUB_WEBHOOK_SECRET,
        botLogin: undefined,
      });
      expect(await github.getAuthenticatedLogin()).toBe('acme-droid[bot]');
      // …and, once installed, its webhooks reach the public URL signed with the written secret.
      forge.installApp('acme');
      forge.createIssue('acme/widgets', { title: 'hello', as: 'acme' });
      const delivery = await waitFor('a webhook delivery', () => hooks.deliveries[0], 10_000);
      expect(delivery.event).toBe('issues');
      const verifier = createWebhookVerifier(env.GITHUB_WEBHOOK_SECRET ?? '');
      expect(await verifier.verify(delivery.body, delivery.signature)).toBe(true);
    },
  );

  it('never overwrites an existing .env without --force, and asks for the public URL', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-setup-'));
    await writeFile(join(dir, '.env'), 'GITHUB_TOKEN=keep-me\n');
    const refused = runCli(['setup', '--url', 'https://droid.example.org'], dir);
    expect(await refused.exit).toBe(2);
    expect(refused.output()).toMatch(/\.env exists; run again with --force/);
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe('GITHUB_TOKEN=keep-me\n');

    await rm(join(dir, '.env'));
    const noUrl = runCli(['setup'], dir);
    expect(await noUrl.exit).toBe(2);
    expect(noUrl.output()).toMatch(/--url https:\/\/.*DROIDWORKS_PUBLIC_URL/);
  });
});
