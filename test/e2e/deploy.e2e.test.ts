import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startDeployTarget, type DeployTarget } from '../../src/demo/deploy-target.js';
import { startStack, type Stack } from '../../src/cli/start-stack.js';
import { eventsOf } from '../../src/ledger/index.js';
import { createLogger } from '../../src/util/logger.js';
import { describeDocker } from '../support/docker.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');
const SECRET = `hook-${randomBytes(12).toString('hex')}`;

interface Harness {
  stack: Stack;
  target: DeployTarget;
  logs: string[];
}

/** The product on loopback (no Docker: webhook deployers only) plus the service under deploy. */
async function start(
  env: Record<string, string> = {},
  options: { noWorker?: boolean; lockDurationMs?: number } = {},
): Promise<Harness> {
  const target = await startDeployTarget(SECRET);
  const logs: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  });
  const stack = await startStack({
    logger,
    redisUrl,
    env: { DROIDWORKS_SANDBOX: 'process', DROIDWORKS_SECRET_DEPLOY_HOOK: SECRET, ...env },
    ...options,
  });
  return { stack, target, logs };
}

function deployYaml(
  target: DeployTarget,
  extra: { production?: string; staging?: string; top?: string } = {},
): string {
  return `deploy:
  requireChecks: [ci]
  gateTimeoutMinutes: 60
${extra.top ?? ''}  environments:
    - name: staging
      url: ${target.url}/staging
      deployer:
        webhook: { url: "${target.hookUrl}", secret: DEPLOY_HOOK }
      health: { url: "${target.healthUrl('staging')}", intervalSec: 0.2, successes: 2, failures: 2, timeoutSec: 20 }
      soakSec: 0.5
${extra.staging ?? ''}    - name: production
      url: ${target.url}/production
      production: true
      deployer:
        webhook: { url: "${target.hookUrl}", secret: DEPLOY_HOOK }
      health: { url: "${target.healthUrl('production')}", intervalSec: 0.2, successes: 2, failures: 3, timeoutSec: 20 }
${extra.production ?? ''}`;
}

let n = 0;
/** A pull request with one new file, merged by alice; returns its number and merge commit. */
async function mergeChange(stack: Stack): Promise<{ number: number; sha: string }> {
  const repo = stack.repo.full;
  const branch = `change-${++n}-${randomBytes(3).toString('hex')}`;
  await stack.forge.commit(repo, {
    branch,
    files: { [`${branch}.txt`]: `${branch}\n` },
    message: branch,
    as: 'alice',
  });
  const pull = await stack.forge.createPullRequest(repo, { title: branch, head: branch, as: 'alice' });
  const sha = await stack.forge.mergePullRequest(repo, pull.number, 'alice');
  return { number: pull.number, sha };
}

const progress = (stack: Stack, number: number) =>
  stack.forge.comments(stack.repo.full, number).find((c) => c.body.includes('droidworks:progress'))?.body;
const runIdOf = (stack: Stack, number: number) =>
  /droidworks:progress run=(\S+) -->/.exec(progress(stack, number) ?? '')?.[1];
const deployments = (stack: Stack) => stack.forge.state.requireRepo(stack.repo.full).deployments;
/** Statuses of a deployment, oldest first, as GitHub would list them reversed. */
const statesOf = (stack: Stack, sha: string, environment: string) =>
  deployments(stack)
    .filter((d) => d.sha === sha && d.environment === environment)
    .map((d) => [...d.statuses].reverse().map((s) => s.state));
const green = (stack: Stack, sha: string, as = 'droidworks[bot]') =>
  stack.forge.addCheckRun(stack.repo.full, sha, {
    name: 'ci',
    status: 'completed',
    conclusion: 'success',
    as,
  });
/** The run on `number` has finished (its ledger says so) and its comment shows `status`. */
const runEnded = (h: Harness, number: number, status: string) => async () => {
  const runId = runIdOf(h.stack, number);
  if (!runId) return undefined;
  const events = await h.stack.services!.ledger.events(runId);
  if (!events.some((e) => e.type === 'run.finished')) return undefined;
  return progress(h.stack, number)?.includes(status) ? true : undefined;
};

describe('deploy stage', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stack.close();
    await h?.target.close();
    h = undefined;
  });

  it('red CI: no deployment, no deployer call, one comment naming the failed check', async () => {
    h = await start();
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': deployYaml(target) },
      message: 'deploy config',
    });
    const pr = await mergeChange(stack);
    await waitFor('the deploy run to wait on the gate', () =>
      progress(stack, pr.number)?.includes('**Gate:** waiting'),
    );
    stack.forge.addCheckRun(stack.repo.full, pr.sha, {
      name: 'ci',
      status: 'completed',
      conclusion: 'failure',
      detailsUrl: 'https://ci.example.com/build/1',
      as: 'droidworks[bot]',
    });
    await waitFor('the run to fail', runEnded(h, pr.number, '❌ Failed'));
    const body = progress(stack, pr.number)!;
    expect(body).toMatch(/CI failed on [0-9a-f]{12}: ci \(failure\)/);
    expect(body).toContain('❌');
    expect(stack.forge.comments(stack.repo.full, pr.number)).toHaveLength(1);
    expect(deployments(stack)).toHaveLength(0);
    expect(target.calls).toHaveLength(0);
  });

  it('pending then green: deploys within 2 s of check_run.completed, staging then production, both success', async () => {
    h = await start();
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': deployYaml(target) },
      message: 'deploy config',
    });
    const pr = await mergeChange(stack);
    stack.forge.addCheckRun(stack.repo.full, pr.sha, {
      name: 'ci',
      status: 'in_progress',
      as: 'droidworks[bot]',
    });
    await waitFor('the gate to show ci pending', () => progress(stack, pr.number)?.includes('⏳ [ci]'));
    expect(deployments(stack)).toHaveLength(0);
    const greenAt = Date.now();
    green(stack, pr.sha);
    const first = await waitFor('the staging deployer call', () => target.calls[0]);
    expect(first.receivedAt - greenAt).toBeLessThan(2000);
    expect(first.event).toBe('deploy');
    expect(first.body).toMatchObject({
      action: 'deploy',
      repository: stack.repo.full,
      environment: 'staging',
      sha: pr.sha,
      previousSha: null,
      runId: runIdOf(stack, pr.number),
    });
    await waitFor('the run to succeed', runEnded(h, pr.number, '✅ Done'), 60_000);
    expect(target.calls.map((c) => c.body.environment)).toEqual(['staging', 'production']);
    expect(target.rejected).toEqual([]);
    expect(statesOf(stack, pr.sha, 'staging')).toEqual([['in_progress', 'success']]);
    expect(statesOf(stack, pr.sha, 'production')).toEqual([['in_progress', 'success']]);
    const prod = deployments(stack).find((d) => d.environment === 'production')!;
    expect(prod.production).toBe(true);
    expect(prod.statuses[0]!.environmentUrl).toBe(`${target.url}/production`);
    expect(prod.payload).toMatchObject({ runId: runIdOf(stack, pr.number) });
    expect(h.logs.join('')).not.toContain(SECRET);
  });

  it('production health fails: rolls back to the previous good SHA within 10 s; a failed rollback opens one incident', async () => {
    h = await start();
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': deployYaml(target) },
      message: 'deploy config',
    });
    const good = await mergeChange(stack);
    green(stack, good.sha);
    await waitFor('the first deploy', runEnded(h, good.number, '✅ Done'), 60_000);

    // The second change breaks production's health.
    const bad = await mergeChange(stack);
    target.broken.add(`production@${bad.sha}`);
    green(stack, bad.sha);
    await waitFor('the run to fail', runEnded(h, bad.number, '❌ Failed'), 60_000);
    const rollbackCall = target.calls.find((c) => c.body.action === 'rollback');
    expect(rollbackCall?.event).toBe('rollback');
    expect(rollbackCall?.body).toMatchObject({
      environment: 'production',
      sha: good.sha,
      previousSha: bad.sha,
    });
    const ledger = await stack.services!.ledger.events(runIdOf(stack, bad.number)!);
    const threshold = ledger.find((e) => e.type === 'deploy.health' && e.healthy === false)!;
    expect(rollbackCall!.receivedAt - threshold.at).toBeLessThan(10_000);
    expect(statesOf(stack, bad.sha, 'production')).toEqual([['in_progress', 'failure']]);
    const restored = deployments(stack).find((d) => d.id === rollbackCall!.body.deploymentId)!;
    expect(restored.sha).toBe(good.sha);
    expect([...restored.statuses].reverse().map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(target.deployed.get('production')).toBe(good.sha);
    const report = stack.forge
      .comments(stack.repo.full, bad.number)
      .find((c) => c.body.includes('deploy-report'));
    expect(report?.body).toContain('failed');
    expect(report?.body).toContain(`back on \`${good.sha.slice(0, 12)}\``);

    // A third change is broken too, and now the rollback hook fails: exactly one incident issue.
    const worse = await mergeChange(stack);
    target.broken.add(`production@${worse.sha}`);
    target.control.hookStatus = (call) => (call.body.action === 'rollback' ? 500 : 200);
    green(stack, worse.sha);
    await waitFor('the run to fail', runEnded(h, worse.number, '❌ Failed'), 60_000);
    const incidents = [...stack.forge.state.requireRepo(stack.repo.full).issues.values()].filter((i) =>
      i.labels.includes('droid:incident'),
    );
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.title).toContain('production');
  });

  it('checks that never finish: the gate times out naming them, nothing deployed', async () => {
    h = await start();
    const { stack, target } = h;
    const yaml = deployYaml(target)
      .replace('requireChecks: [ci]', 'requireChecks: [ci, e2e]')
      .replace('gateTimeoutMinutes: 60', 'gateTimeoutMinutes: 1');
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': yaml },
      message: 'deploy config',
    });
    const pr = await mergeChange(stack);
    green(stack, pr.sha);
    stack.forge.addCheckRun(stack.repo.full, pr.sha, {
      name: 'e2e',
      status: 'in_progress',
      as: 'droidworks[bot]',
    });
    await waitFor('the gate to time out', runEnded(h, pr.number, '❌ Failed'), 120_000, 1000);
    const body = progress(stack, pr.number)!;
    expect(body).toContain('the gate timed out after 1 minutes; never finished: e2e (in_progress)');
    expect(body).toContain('**Gate:** timed out');
    expect(deployments(stack)).toHaveLength(0);
    expect(target.calls).toHaveLength(0);
  });

  it('a worker SIGKILLed mid-deploy: the run resumes, reuses its deployment, never two deployer calls at once', async () => {
    h = await start({}, { noWorker: true, lockDurationMs: 4000 });
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': deployYaml(target) },
      message: 'deploy config',
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-child.ts'], {
      env: { ...process.env, ...stack.env, TEST_LOCK_MS: '4000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve());
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
      // The first staging deploy hangs long enough to kill its worker while the call is in flight.
      target.control.hookDelayMs = 3000;
      const pr = await mergeChange(stack);
      green(stack, pr.sha);
      await waitFor('the first deployer call', () => target.calls[0], 60_000);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      target.control.hookDelayMs = 0;

      await stack.startWorker();
      await waitFor('the resumed run to succeed', runEnded(h, pr.number, '✅ Done'), 120_000);
      expect(target.maxInFlight).toBe(1);
      expect(target.calls.filter((c) => c.body.environment === 'staging')).toHaveLength(2);
      expect(deployments(stack).filter((d) => d.environment === 'staging')).toHaveLength(1);
      expect(statesOf(stack, pr.sha, 'production')).toEqual([['in_progress', 'success']]);
      const events = await stack.services!.ledger.events(runIdOf(stack, pr.number)!);
      expect(
        eventsOf(events, 'deploy.started')
          .filter((e) => e.environment === 'staging')
          .map((e) => e.reused),
      ).toEqual([false, true]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('bad config: one comment naming every problem, no deployment', async () => {
    h = await start({ DROIDWORKS_DEPLOY_ALLOW_HOSTS: 'deploy.example.com' });
    const { stack, target } = h;
    const yaml = deployYaml(target).replace(
      'secret: DEPLOY_HOOK }\n      health',
      'secret: NOPE }\n      health',
    );
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': yaml },
      message: 'deploy config',
    });
    const pr = await mergeChange(stack);
    const comment = await waitFor('the config comment', () =>
      stack.forge.comments(stack.repo.full, pr.number).find((c) => c.body.includes('has problems')),
    );
    expect(comment.body).toContain('DROIDWORKS_SECRET_NOPE');
    expect(comment.body).toContain('deploy.environments[0].deployer.webhook.url');
    expect(comment.body).toContain('deploy.environments[1].health');
    expect(stack.forge.comments(stack.repo.full, pr.number)).toHaveLength(1);

    // Two deployers in one environment: the schema says so, in one comment.
    const two = deployYaml(target)
      .replace('      soakSec: 0.5\n', '      soakSec: 0.5\n')
      .replace('deployer:\n        webhook:', 'deployer:\n        command: ./deploy.sh\n        webhook:');
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': two },
      message: 'two deployers',
    });
    const pr2 = await mergeChange(stack);
    const invalid = await waitFor('the invalid-config comment', () =>
      stack.forge.comments(stack.repo.full, pr2.number).find((c) => c.body.includes('is invalid')),
    );
    expect(invalid.body).toMatch(/exactly one deployer, not webhook and command/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(stack.forge.comments(stack.repo.full, pr2.number)).toHaveLength(1);
    expect(deployments(stack)).toHaveLength(0);
    expect(target.calls).toHaveLength(0);
  });

  it('/droid deploy by a reader is refused; requireApproval waits for /droid approve', async () => {
    h = await start();
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: {
        '.droidworks.yml': deployYaml(target, {
          top: '  on: command\n',
          production: '      requireApproval: true\n',
        }),
      },
      message: 'deploy config',
    });
    const issue = stack.forge.createIssue(stack.repo.full, { title: 'ship it', as: 'alice' });
    stack.forge.comment(stack.repo.full, issue.number, '/droid deploy production', 'rita');
    await waitFor('the refusal', () =>
      stack.forge.comments(stack.repo.full, issue.number).find((c) => c.body.includes('write access')),
    );
    const head = (await stack.forge.refSha(stack.repo.full, 'refs/heads/main'))!;
    green(stack, head);
    stack.forge.comment(stack.repo.full, issue.number, '/droid deploy production', 'alice');
    await waitFor('the approval wait', () =>
      progress(stack, issue.number)?.includes('approve` to deploy to production'),
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(target.calls).toHaveLength(0);
    expect(deployments(stack)).toHaveLength(0);
    stack.forge.comment(stack.repo.full, issue.number, '/droid approve', 'alice');
    await waitFor('the run to succeed', runEnded(h, issue.number, '✅ Done'), 60_000);
    expect(target.calls.map((c) => [c.body.environment, c.body.sha])).toEqual([['production', head]]);
    expect(statesOf(stack, head, 'production')).toEqual([['in_progress', 'success']]);
  });

  it('/droid rollback production restores the previous good SHA now', async () => {
    h = await start();
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': deployYaml(target) },
      message: 'deploy config',
    });
    const first = await mergeChange(stack);
    green(stack, first.sha);
    await waitFor('the first deploy', runEnded(h, first.number, '✅ Done'), 60_000);
    const second = await mergeChange(stack);
    green(stack, second.sha);
    await waitFor('the second deploy', runEnded(h, second.number, '✅ Done'), 60_000);
    expect(target.deployed.get('production')).toBe(second.sha);

    stack.forge.comment(stack.repo.full, second.number, '/droid rollback production', 'alice');
    const call = await waitFor('the rollback hook', () =>
      target.calls.find((c) => c.body.action === 'rollback'),
    );
    expect(call.body).toMatchObject({ environment: 'production', sha: first.sha, previousSha: second.sha });
    await waitFor('production back on the first SHA', () =>
      deployments(stack).find((d) => d.id === call.body.deploymentId)?.statuses[0]?.state === 'success'
        ? true
        : undefined,
    );
    expect(target.deployed.get('production')).toBe(first.sha);
    expect(target.calls.filter((c) => c.body.action === 'rollback')).toHaveLength(1);
  });

  it('two merges in quick succession: serialized, the older superseded', async () => {
    h = await start();
    const { stack, target } = h;
    await stack.forge.commit(stack.repo.full, {
      files: { '.droidworks.yml': deployYaml(target) },
      message: 'deploy config',
    });
    const older = await mergeChange(stack);
    const newer = await mergeChange(stack);
    await waitFor(
      'both runs waiting on the gate',
      () =>
        progress(stack, older.number)?.includes('**Gate:** waiting') &&
        progress(stack, newer.number)?.includes('**Gate:** waiting'),
    );
    green(stack, older.sha);
    green(stack, newer.sha);
    await waitFor('the older run to be superseded', runEnded(h, older.number, '⏭️ Superseded'), 60_000);
    expect(progress(stack, older.number)).toContain(newer.sha.slice(0, 12));
    await waitFor('the newer run to succeed', runEnded(h, newer.number, '✅ Done'), 60_000);
    expect(target.calls.map((c) => c.body.sha)).toEqual([newer.sha, newer.sha]);
    expect(target.maxInFlight).toBe(1);
    expect(deployments(stack).filter((d) => d.sha === older.sha)).toHaveLength(0);
  });
});

describeDocker('deploy stage: command deployer in Docker', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stack.close();
    await h?.target.close();
    h = undefined;
  });

  it('runs the command in a fresh container at the SHA, with only its named secret, on the host network', async () => {
    h = await start({
      DROIDWORKS_SANDBOX: 'docker',
      DROIDWORKS_DEPLOY_NETWORK: 'host',
      DROIDWORKS_SECRET_DEPLOY_TOKEN: SECRET,
      DROIDWORKS_SECRET_OTHER: 'other-secret-value',
    });
    const { stack, target } = h;
    const script = `const fs = require('node:fs');
const env = process.env;
fetch('${target.url}/command', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + env.DEPLOY_TOKEN },
  body: JSON.stringify({
    environment: env.DROIDWORKS_ENVIRONMENT,
    sha: env.DROIDWORKS_SHA,
    file: fs.readFileSync('version.txt', 'utf8').trim() + ' other=' + (env.OTHER ?? 'none') + ' gh=' + (env.GITHUB_PRIVATE_KEY ? 'leaked' : 'none'),
  }),
}).then((r) => { console.log('deploy answered', r.status, 'token', env.DEPLOY_TOKEN); process.exit(r.ok ? 0 : 1); });
`;
    await stack.forge.commit(stack.repo.full, {
      message: 'deploy config',
      files: {
        'deploy.js': script,
        'version.txt': 'v1\n',
        '.droidworks.yml': `deploy:
  requireChecks: [ci]
  environments:
    - name: staging
      deployer:
        command: { run: node deploy.js, secrets: [DEPLOY_TOKEN] }
      health: { url: "${target.healthUrl('staging')}", intervalSec: 0.2, successes: 2, failures: 2, timeoutSec: 20 }
`,
      },
    });
    const pr = await mergeChange(stack);
    green(stack, pr.sha);
    await waitFor('the run to succeed', runEnded(h, pr.number, '✅ Done'), 120_000);
    expect(target.commandCalls).toEqual([
      expect.objectContaining({ environment: 'staging', sha: pr.sha, file: 'v1 other=none gh=none' }),
    ]);
    expect(statesOf(stack, pr.sha, 'staging')).toEqual([['in_progress', 'success']]);
    const events = await stack.services!.ledger.events(runIdOf(stack, pr.number)!);
    expect(events.find((e) => e.type === 'deploy.deployer')).toMatchObject({
      ok: true,
      summary: '`node deploy.js` exited 0',
    });
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(h.logs.join('')).not.toContain(SECRET);
  });
});
