import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SAMPLE_REPO } from '../../src/demo/sample-repo.js';
import { describeDocker } from '../support/docker.js';
import { startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startForge, type Forge } from '../support/github-simulator.js';
import { bareEnv, redisServersUnder, spawnCli } from '../support/cli-process.js';
import { freePort } from '../support/redis-server.js';
import { scriptedHandler } from '../support/scripted-model.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The product's contract with operators: the BUILT package, installed from its tarball, started
 * with `droidworks start` from a fresh working directory with only the required variables (and
 * PORT, so parallel suites do not collide), everything else at its default: the data directory
 * `./.droidworks`, the embedded redis-server, the Docker sandbox with the default runner image.
 * A signed `issues.labeled` webhook from the GitHub simulator must end in a pull request.
 */
describeDocker('the installed package, run as the README says', () => {
  let work: string;
  let bin: string;
  let forge: Forge;
  let model: FakeModelServer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dw-pkg-'));
    await run('npm', ['run', 'build'], { cwd: ROOT });
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: ROOT,
    });
    const tarball = join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
    bin = await installTarball(tarball, join(work, 'project'));
    forge = await startForge({});
    model = await startFakeModelServer({ handler: scriptedHandler() });
  });
  afterAll(async () => {
    await forge?.close();
    await model?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('prints its version and each command lists the variables it reads', async () => {
    const env = bareEnv({});
    const version = await run(process.execPath, [bin, '--version'], { env, cwd: work });
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await run(process.execPath, [bin, 'start', '--help'], { env, cwd: work });
    expect(help.stdout).toContain('GITHUB_WEBHOOK_SECRET');
    expect(help.stdout).toContain('DROIDWORKS_DATA_DIR');
    expect(help.stdout).toMatch(/Example:\n\s+.*droidworks start/);
    // What `doctor` tells a user to run ships in the package.
    const doctor = await run(process.execPath, [bin, 'doctor'], {
      env: bareEnv({ DROIDWORKS_RUNNER_IMAGE: 'droidworks/no-such-image:1' }),
      cwd: work,
    }).catch((err: { stdout: string }) => err);
    const script = /build it with sudo bash (\S+)/.exec(doctor.stdout)?.[1];
    expect(script, doctor.stdout).toBe(
      join(work, 'project', 'node_modules', 'droidworks', 'scripts', 'build-runner-image.sh'),
    );
    await expect(access(script!)).resolves.toBeUndefined();
    expect(doctor.stdout).not.toContain('setup.sh');
  });

  it('takes a labelled issue to a pull request with defaults, from a fresh directory', async () => {
    const { owner, name } = SAMPLE_REPO;
    const repo = `${owner}/${name}`;
    await forge.createRepo({ owner, name, files: SAMPLE_REPO.files });
    const { token } = forge.createUser('droidbot');
    forge.createUser('alice');
    forge.setPermission(repo, 'droidbot', 'write');
    forge.setPermission(repo, 'alice', 'write');

    const cwd = await mkdtemp(join(work, 'run-'));
    const port = await freePort();
    const secret = 'package-test-webhook-secret';
    const cli = spawnCli(['start'], {
      cwd,
      bin,
      env: bareEnv({
        GITHUB_TOKEN: token,
        GITHUB_API_URL: forge.url,
        GITHUB_WEBHOOK_SECRET: secret,
        ANTHROPIC_API_KEY: 'sk-ant-package-test-0123456789',
        ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
        PORT: String(port),
      }),
    });
    try {
      await waitFor('droidworks to listen', () => cli.output().stdout.includes('gateway listening'), 120_000);
      forge.webhooks.configure({ url: `http://127.0.0.1:${port}/webhooks/github`, secret });
      const issue = forge.createIssue(repo, { ...SAMPLE_REPO.issue, as: 'alice' });
      forge.addLabel(repo, issue.number, 'droid', 'alice');

      const outcome = await waitFor(
        'droid:done or droid:failed',
        () => forge.issue(repo, issue.number).labels.find((l) => l.startsWith('droid:')),
        170_000,
        500,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n--- droidworks output ---\n${cli.output().stdout.slice(-8000)}`);
      });
      const comments = forge
        .comments(repo, issue.number)
        .map((c) => c.body)
        .join('\n---\n');
      expect(outcome, comments).toBe('droid:done');
      const pulls = forge.pulls(repo);
      expect(pulls).toHaveLength(1);
      expect(pulls[0]!.body).toContain(`Closes #${issue.number}`);
      // With a token GitHub refuses check runs (Apps only): the test result is a commit status,
      // and the run succeeded at its first attempt.
      const head = pulls[0]!.pull.headSha;
      expect(
        forge.state
          .requireRepo(repo)
          .statuses.filter((s) => s.sha === head)
          .map((s) => [s.context, s.state]),
      ).toEqual([['droidworks/tests', 'success']]);
      expect(comments).not.toMatch(/Attempt \d+ of \d+ failed/);
      // Defaults: everything under ./.droidworks of the working directory, absolute.
      expect((await readdir(join(cwd, '.droidworks'))).sort()).toEqual(
        expect.arrayContaining(['mirrors', 'redis', 'sandboxes']),
      );
      expect(redisServersUnder(cwd)).toHaveLength(1);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(redisServersUnder(cwd)).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain('Unhandled error event');
  });
});

/**
 * Installs a package tarball into `dir` as `npm install <tarball>` lays it out: the package under
 * `node_modules/droidworks`, its bin linked in `node_modules/.bin`, and each of its declared
 * `dependencies` (only those: a missing one fails the test) linked from the shared install, since
 * this machine cannot reach the registry and the shared `node_modules` must not change.
 */
async function installTarball(tarball: string, dir: string): Promise<string> {
  const target = join(dir, 'node_modules', 'droidworks');
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  const manifest = JSON.parse(await readFile(join(target, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    dependencies: Record<string, string>;
  };
  const shared = realpathSync(join(ROOT, 'node_modules'));
  for (const dep of Object.keys(manifest.dependencies)) {
    const link = join(dir, 'node_modules', dep);
    await mkdir(join(link, '..'), { recursive: true });
    await symlink(join(shared, dep), link);
  }
  await mkdir(join(dir, 'node_modules', '.bin'), { recursive: true });
  const binPath = join(target, manifest.bin.droidworks!);
  await symlink(binPath, join(dir, 'node_modules', '.bin', 'droidworks'));
  return join(dir, 'node_modules', '.bin', 'droidworks');
}
