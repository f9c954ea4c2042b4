import { randomBytes } from 'node:crypto';
import type { DeployTarget } from '../demo/deploy-target.js';
import type { Stack } from './start-stack.js';
import type { RunEvent } from '../ledger/index.js';

/** The secret the demo's deploy hook is signed with (`DROIDWORKS_SECRET_DEMO_HOOK`). */
export const demoHookSecret = (): string => randomBytes(16).toString('hex');

const say = (text: string): void => console.log(`\x1b[35m[deploy]\x1b[0m ${text}`);

/**
 * `droidworks demo --deploy`, the second act: the sample repository gets a `deploy:` block pointing at
 * a loopback service the demo started, the droid's PR is merged, CI reports green on the merge
 * commit, and the change goes to staging then production. Then a second change breaks production's
 * health check and is rolled back to the first. Returns whether both went as they should.
 */
export async function deployAct(stack: Stack, target: DeployTarget, pullNumber: number): Promise<boolean> {
  const repo = stack.repo.full;
  await stack.forge.commit(repo, {
    message: 'Deploy with droidworks',
    files: {
      '.droidworks.yml': `deploy:
  requireChecks: [ci]
  environments:
    - name: staging
      url: ${target.url}/staging
      deployer: { webhook: { url: "${target.hookUrl}", secret: DEMO_HOOK } }
      health: { url: "${target.healthUrl('staging')}", intervalSec: 0.3, successes: 3, failures: 3, timeoutSec: 30 }
      soakSec: 1
    - name: production
      url: ${target.url}/production
      production: true
      deployer: { webhook: { url: "${target.hookUrl}", secret: DEMO_HOOK } }
      health: { url: "${target.healthUrl('production')}", intervalSec: 0.3, successes: 3, failures: 3, timeoutSec: 30 }
`,
    },
  });
  say(`.droidworks.yml now deploys to staging then production at ${target.url} (a signed webhook receiver).`);

  say(`alice merges PR #${pullNumber}; CI will report \`ci\` on the merge commit.`);
  const first = await mergeAndWatch(stack, pullNumber);
  const firstOk = target.deployed.get('production') === first;

  const branch = 'break-production';
  await stack.forge.commit(repo, {
    branch,
    files: { 'BROKEN.md': 'this one fails in production\n' },
    message: branch,
    as: 'alice',
  });
  const pull = await stack.forge.createPullRequest(repo, {
    title: 'A change that breaks production',
    head: branch,
    as: 'alice',
  });
  say(`Act two: PR #${pull.number} passes CI but its production health check will fail.`);
  const second = await mergeAndWatch(stack, pull.number, (sha) => target.broken.add(`production@${sha}`));
  const rolledBack = target.deployed.get('production') === first && second !== first;
  say(
    rolledBack
      ? `↩️ production is back on ${first.slice(0, 12)}; the Environments tab (GET ${stack.forge.url}/repos/${repo}/deployments) shows every deployment and status.`
      : '❌ production was not rolled back as expected.',
  );
  return firstOk && rolledBack;
}

async function mergeAndWatch(
  stack: Stack,
  pullNumber: number,
  beforeGreen?: (sha: string) => void,
): Promise<string> {
  const repo = stack.repo.full;
  const sha = await stack.forge.mergePullRequest(repo, pullNumber, 'alice');
  beforeGreen?.(sha);
  setTimeout(() => {
    say(`CI reports ci: success on ${sha.slice(0, 12)} (a check_run webhook wakes the gate).`);
    stack.forge.addCheckRun(repo, sha, {
      name: 'ci',
      status: 'completed',
      conclusion: 'success',
      as: 'droidworks[bot]',
    });
  }, 1500);
  const seen = new Set<string>();
  const deadline = Date.now() + 3 * 60_000;
  let runId: string | undefined;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    runId ??= /droidworks:progress run=(\S+) -->/.exec(
      stack.forge.comments(repo, pullNumber).find((c) => c.body.includes('droidworks:progress'))?.body ?? '',
    )?.[1];
    if (!runId || !stack.services) continue;
    let finished = false;
    for (const e of await stack.services.ledger.events(runId)) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      const line = narrate(e);
      if (line) say(line);
      if (e.type === 'run.finished') finished = true;
    }
    if (finished) break;
  }
  return sha;
}

function narrate(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'deploy.gate':
      return `gate: ${String(e.verdict)} (${e.checks.map((c) => `${c.name} ${c.state}`).join(', ') || 'no checks yet'})`;
    case 'deploy.started':
      return `${String(e.environment)}: GitHub deployment ${String(e.deploymentId)} in_progress, calling the deploy hook`;
    case 'deploy.deployer':
      return `${String(e.environment)}: ${String(e.summary)}`;
    case 'deploy.health':
      return `${String(e.environment)}: health ${e.healthy ? 'passing' : 'FAILING'} (${String(e.reason)})`;
    case 'deploy.succeeded':
      return `✅ ${String(e.environment)}: deployment success`;
    case 'deploy.rollback.called':
      return `↩️ ${String(e.environment)}: rolling back to ${String(e.sha).slice(0, 12)} (new deployment ${String(e.deploymentId)})`;
    case 'deploy.rollback':
      return `${String(e.environment)}: rollback ${String(e.result)}`;
    case 'deploy.superseded':
      return `superseded by ${String(e.by)}`;
    case 'run.finished':
      return `deploy run finished: ${String(e.status)}`;
    default:
      return undefined;
  }
}
