import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import { bareEnv, spawnCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

describeDocker('droidworks demo', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints the diff and links that work while it keeps running, and stops on Ctrl-C', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'dw-demo-'));
    dirs.push(cwd);
    // Not a terminal here, so `--keep` asks for what a terminal gets by default.
    const demo = spawnCli(['demo', '--keep'], { cwd, env: bareEnv({}) });
    try {
      await waitFor(
        'the demo to say how to stop it',
        () => demo.output().stdout.includes('until Ctrl-C'),
        170_000,
      );
      const out = demo.output().stdout;
      expect(out).toContain('Pull request #');
      // The PR's diff: the fix of the sample repository's bug.
      expect(out).toMatch(/^-\s+return a - b;$/m);
      expect(out).toMatch(/^\+\s+return a \+ b;$/m);
      const dashboard = /the run on the dashboard:\s+(\S+)/.exec(out)?.[1];
      const pull = /the pull request \(API\):\s+curl -s (\S+)/.exec(out)?.[1];
      expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/runs\/.+/);
      const page = await fetch(dashboard!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('succeeded');
      const api = await fetch(pull!);
      expect(api.status).toBe(200);
      expect(((await api.json()) as { state: string }).state).toBe('open');
    } finally {
      demo.child.kill('SIGINT');
    }
    const result = await demo.done;
    expect(result.code, result.stderr).toBe(0);
  });
});
