import type { Browser } from 'playwright-core';
import { afterEach, expect, inject, it } from 'vitest';
import { launchChromium, requireChromium } from '../support/chromium.js';
import { describeDocker } from '../support/docker.js';
import { openIssue, outcomeOf, startE2E, type E2E } from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');
const hasChromium = requireChromium();

describeDocker('run dashboard', () => {
  let e2e: E2E | undefined;
  let browser: Browser | undefined;
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await e2e?.close();
    e2e = undefined;
  });

  it.skipIf(!hasChromium)('lists the finished run and shows its plan and pull request', async () => {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    const issue = openIssue(stack, { body: 'add(2, 3) is -1, not 5.', label: false });
    stack.forge.addLabel(repo, issue.number, 'droid', 'alice');
    expect(await waitFor('droid:done or droid:failed', () => outcomeOf(stack, issue.number), 150_000)).toBe(
      'droid:done',
    );
    const pr = stack.forge.pulls(repo)[0]!;
    const subject = `${repo}#${issue.number}`;
    // The label comes from the report step; the ledger's final state is written just after it.
    const base = stack.gateway.url;
    await waitFor(
      'the run to be recorded as succeeded',
      async () => {
        const { runs } = (await (await fetch(`${base}/api/runs`)).json()) as {
          runs: Array<{ subject: string; status: string }>;
        };
        return runs.some((r) => r.subject === subject && r.status === 'succeeded');
      },
      15_000,
    );

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const list = await page.goto(`${base}/runs`);
    expect(list?.status()).toBe(200);
    const row = page.locator('tbody tr[data-run]', { hasText: subject });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('.badge').innerText()).toBe('succeeded');
    expect(await row.innerText()).toContain(`#${pr.number}`);
    await page.screenshot({ path: 'test-results/dashboard/runs.png', fullPage: true });

    await row.locator('td').first().getByRole('link').click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    expect(await page.locator('#summary .badge').innerText()).toBe('succeeded');
    const plan = page.locator('ol.plan li');
    expect(await plan.count()).toBeGreaterThan(0);
    expect((await plan.first().innerText()).length).toBeGreaterThan(0);
    const prLink = page.locator('#summary').getByRole('link', { name: `#${pr.number}`, exact: true });
    expect(await prLink.getAttribute('href')).toMatch(new RegExp(`/pull/${pr.number}$`));
    expect(await page.locator('#transcript > li').count()).toBeGreaterThan(5);
    expect(await page.locator('#transcript').innerText()).toContain('run.finished');
    // The diff of the pushed branch and the test output are in the transcript.
    expect(await page.locator('#transcript li[data-type="pushed"] pre.diff').count()).toBe(1);
    expect(await page.locator('#transcript li[data-type="tests"] details').count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'test-results/dashboard/run.png', fullPage: true });
  });
});
