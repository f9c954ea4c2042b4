import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import { openIssue, outcomeOf, startE2E, type E2E } from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');
const run = promisify(execFile);

/**
 * GITHUB_API_URL changes between two runs (here: the GitHub simulator restarted on another port)
 * while the data directory, and so the git mirror of the repository, stays: the second run must
 * fetch from and push to the new address.
 */
describeDocker('the git mirror follows GITHUB_API_URL', () => {
  const open: E2E[] = [];
  let dataDir: string | undefined;
  afterEach(async () => {
    for (const e of open.splice(0)) await e.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a second run after the API URL changed still opens its PR', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dw-moving-'));
    const env = { DROIDWORKS_DATA_DIR: dataDir };

    const first = await startE2E(redisUrl, { env });
    open.push(first);
    const a = openIssue(first.stack);
    expect(await waitFor('first run', () => outcomeOf(first.stack, a.number), 150_000)).toBe('droid:done');
    const mirror = join(dataDir, 'mirrors', first.stack.repo.owner, `${first.stack.repo.name}.git`);
    const remote = async () =>
      (await run('git', ['--git-dir', mirror, 'config', 'remote.origin.url'])).stdout.trim();
    expect(await remote()).toContain(first.stack.forge.webUrl);
    await open.pop()!.close();

    const second = await startE2E(redisUrl, { env });
    open.push(second);
    expect(second.stack.forge.webUrl).not.toBe(first.stack.forge.webUrl);
    const b = openIssue(second.stack);
    expect(await waitFor('second run', () => outcomeOf(second.stack, b.number), 150_000)).toBe('droid:done');
    expect(second.stack.forge.pulls(second.stack.repo.full)).toHaveLength(1);
    expect(await remote()).toContain(second.stack.forge.webUrl);
  });
});
