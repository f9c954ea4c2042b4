import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterEach, expect, inject, it } from 'vitest';
import { launchChromium, requireChromium } from '../support/chromium.js';
import { describeDocker } from '../support/docker.js';
import { droidworksContainers, openIssue, startE2E, type E2E } from '../support/e2e-stack.js';
import { fakeReply } from '../support/fake-model-server.js';
import { configureOAuthClient } from '../support/github-simulator.js';
import { scriptedHandler } from '../support/scripted-model.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');
const hasChromium = requireChromium();
const ARTIFACTS = join(process.cwd(), 'test-results', 'dashboard-live');
const TOKEN = 'e2e-admin-token-0123456789abcdef';
const CLIENT = { clientId: 'Iv23e2eclient', clientSecret: 'e2e-oauth-client-secret-0123456789' };

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describeDocker('live dashboard: sign-in, live run page, controls', () => {
  let e2e: E2E | undefined;
  let browser: Browser | undefined;
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await e2e?.close();
    e2e = undefined;
  });

  it.skipIf(!hasChromium)(
    'the admin watches a run live and cancels it (its container goes); a reader through GitHub sees no buttons',
    async () => {
      await mkdir(ARTIFACTS, { recursive: true });
      e2e = await startE2E(redisUrl, {
        env: {
          DROIDWORKS_DASHBOARD_TOKEN: TOKEN,
          GITHUB_CLIENT_ID: CLIENT.clientId,
          GITHUB_CLIENT_SECRET: CLIENT.clientSecret,
        },
      });
      const { stack } = e2e;
      configureOAuthClient(stack.forge.state, CLIENT);
      // The coder takes a few quick steps, then one that never ends: a run long enough to watch.
      e2e.model.setHandler(
        scriptedHandler((_request, role, turn) =>
          role === 'coder'
            ? fakeReply.tool('bash', { command: turn < 3 ? `echo step ${turn}; sleep 1` : 'sleep 300' })
            : undefined,
        ),
      );
      const base = stack.gateway.url;
      browser = await launchChromium();

      // ---- the admin signs in with the token ----
      const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await admin.goto(`${base}/runs`);
      expect(new URL(admin.url()).pathname).toBe('/login');
      await shot(admin, '01-sign-in');
      await admin.fill('#token', TOKEN);
      await admin.getByRole('button', { name: 'Sign in', exact: true }).click();
      await admin.waitForURL(`${base}/runs`);

      const issue = openIssue(stack);
      const subject = `${stack.repo.full}#${issue.number}`;
      const row = admin.locator('tbody tr[data-run]', { hasText: subject });
      // No reload: the list refreshes its rows by itself.
      await expect.poll(() => row.count(), { timeout: 60_000, interval: 500 }).toBe(1);
      await shot(admin, '02-runs-list');
      const runId = (await row.getAttribute('data-run'))!;
      await row.getByRole('link', { name: runId }).click();
      await admin.waitForURL(`${base}/runs/${runId}`);

      // ---- steps appear live, without a reload ----
      await admin.evaluate(() => {
        (globalThis as unknown as { marker: string }).marker = 'same page';
      });
      const tools = admin.locator('#transcript > li[data-type="agent.tool"]');
      const initialTools = await tools.count();
      await expect
        .poll(() => tools.count(), { timeout: 150_000, interval: 500 })
        .toBeGreaterThanOrEqual(Math.max(2, initialTools + 1));
      expect(await admin.locator('#transcript > li[data-type="step.started"]').count()).toBeGreaterThan(0);
      expect(await admin.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe(
        'same page',
      );
      expect(await admin.locator('#live-status').innerText()).toBe('Live');
      expect(await admin.locator('#summary .badge').innerText()).toBe('running');
      await shot(admin, '03-run-live');
      await waitFor('the run container', async () => (await droidworksContainers(stack)).length > 0, 60_000);

      // ---- cancel ----
      await admin.locator('button[data-action="cancel"]').click();
      await admin.waitForURL(`${base}/runs/${runId}?requested=cancel`);
      await expect
        .poll(() => admin.locator('#summary .badge').innerText(), { timeout: 30_000, interval: 250 })
        .toBe('cancelled');
      await expect
        .poll(() => admin.locator('#transcript > li[data-type="run.cancel_requested"]').count())
        .toBe(1);
      await expect.poll(() => admin.locator('button[data-action="retry"]').count()).toBe(1);
      await shot(admin, '04-run-cancelled');
      await waitFor(
        'no container left',
        async () => (await droidworksContainers(stack)).length === 0,
        20_000,
      );
      const state = (await (await admin.request.get(`${base}/api/runs/${runId}`)).json()) as {
        run: { status: string };
      };
      expect(state.run.status).toBe('cancelled');

      // ---- the queues board, admin only ----
      const queues = await admin.goto(`${base}/admin/queues`);
      expect(queues?.status()).toBe(200);
      await shot(admin, '05-queues');

      // ---- a reader signs in through the simulator's GitHub OAuth ----
      const readerContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const reader = await readerContext.newPage();
      await reader.goto(`${base}/login`);
      await reader.locator('#github-sign-in').click();
      await reader.waitForURL(/\/login\/oauth\/authorize/);
      await reader.locator('#sign-in-rita').click();
      await reader.waitForURL(`${base}/runs`);
      expect(await reader.locator('header .who').innerText()).toContain('@rita');
      expect(await reader.locator('tbody tr[data-run]').count()).toBe(0);
      expect(await reader.locator('[data-action]').count()).toBe(0);
      await shot(reader, '06-reader-runs');
      const hidden = await reader.goto(`${base}/runs/${runId}`);
      expect(hidden?.status()).toBe(404);
      expect(await reader.locator('[data-action]').count()).toBe(0);
      // A forged POST from the reader's own signed-in browser: no valid CSRF token, refused.
      const forged = await reader.evaluate(
        async (url) =>
          (await fetch(url, { method: 'POST', body: new URLSearchParams({ csrf: 'guess' }) })).status,
        `${base}/runs/${runId}/retry`,
      );
      expect(forged).toBe(403);
      expect((await reader.goto(`${base}/admin/queues`))?.status()).toBe(403);

      // ---- a writer through GitHub sees the run and its buttons, on a phone-sized screen ----
      const writerContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const writer = await writerContext.newPage();
      await writer.goto(`${base}/login`);
      await writer.locator('#github-sign-in').click();
      await writer.locator('#sign-in-alice').click();
      await writer.waitForURL(`${base}/runs`);
      await writer.goto(`${base}/runs/${runId}`);
      expect(await writer.locator('button[data-action="retry"]').count()).toBe(1);
      await shot(writer, '07-writer-run-phone');
    },
    300_000,
  );
});
