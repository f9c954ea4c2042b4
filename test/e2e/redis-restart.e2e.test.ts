import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/queue/embedded-redis.js';
import { describeDocker } from '../support/docker.js';
import { droidworksContainers, openIssue, outcomeOf, startE2E, type E2E } from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

// Redis (append-only file on) restarted while a run is in its sandbox: nothing is lost or doubled.
describeDocker('Redis restarted in the middle of a run', () => {
  let e2e: E2E | undefined;
  let redis: EmbeddedRedis | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await e2e?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    e2e = redis = dir = undefined;
  });

  it('finishes the run with one PR and one progress comment', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-redis-aof-'));
    redis = await startEmbeddedRedis({ dir });
    e2e = await startE2E(redis.url);
    const { stack } = e2e;
    const repo = stack.repo.full;
    const issue = openIssue(stack, { body: 'add(2, 3) is -1, not 5.', label: false });
    stack.forge.addLabel(repo, issue.number, 'droid', 'alice');

    // The run holds a sandbox: it is past checkout. Then Redis goes away and comes back on its AOF.
    await waitFor(
      'the run has a sandbox',
      async () => (await droidworksContainers(stack)).length > 0,
      90_000,
    );
    const port = redis.port;
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1000));
    redis = await startEmbeddedRedis({ dir, port });

    expect(await waitFor('droid:done or droid:failed', () => outcomeOf(stack, issue.number), 180_000)).toBe(
      'droid:done',
    );
    expect(stack.forge.pulls(repo)).toHaveLength(1);
    const progress = stack.forge
      .comments(repo, issue.number)
      .filter((c) => c.user.login === 'droidworks[bot]' && c.body.includes('Done'));
    expect(progress).toHaveLength(1);
    await waitFor('no container left', async () => (await droidworksContainers(stack)).length === 0, 30_000);
  });
});
