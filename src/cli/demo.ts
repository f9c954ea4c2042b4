import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import type { Forge } from '../demo/forge/start-forge.js';
import { SAMPLE_REPO } from '../demo/sample-repo.js';
import { startStack } from './start-stack.js';
import { startDeployTarget } from '../demo/deploy-target.js';
import { deployAct, demoHookSecret } from './demo-deploy.js';
import { demoSchedule } from './demo-schedule.js';
import type { RunEvent } from '../ledger/index.js';
import { createModelRouter } from '../models/router.js';
import { createScriptedProvider } from '../demo/scripted-provider.js';
import { createLogger } from '../util/logger.js';

const say = (text: string): void => console.log(`\x1b[36m[demo]\x1b[0m ${text}`);

/**
 * `droidworks demo`: the embedded Redis, a local forge seeded with a repository that has a real bug
 * and a failing test, and droidworks pointed at it. Labels the sample issue through a real signed
 * webhook and narrates the run until the PR is open and its tests pass.
 */
export async function runDemo(o: {
  /** Keep the forge and the dashboard up after the PR is open, until Ctrl-C. */
  keep: boolean;
  /** Then merge the PR and deploy it through staging and production (a broken change rolled back). */
  deploy?: boolean;
  /** Show a scheduled maintenance run instead. */
  schedule?: boolean;
}): Promise<number> {
  const env = process.env;
  const realKeys = Boolean(env.OPENAI_API_KEY || env.ANTHROPIC_API_KEY);
  const logger = createLogger({ level: env.LOG_LEVEL ?? 'warn' });
  const extraEnv: Record<string, string> = {};
  for (const key of Object.keys(env)) {
    if (
      /^(OPENAI_|ANTHROPIC_|DROIDWORKS_MODEL_|DROIDWORKS_SANDBOX|DROIDWORKS_RUNNER_IMAGE)/.test(key) &&
      env[key]
    )
      extraEnv[key] = env[key]!;
  }
  let models;
  if (realKeys) {
    say('Model keys found: the real model drives the droid.');
  } else {
    say(
      'No OPENAI_API_KEY or ANTHROPIC_API_KEY: a SCRIPTED model drives the droid (same tools, same sandbox, canned answers).',
    );
    const scripted = createScriptedProvider('openai');
    const roles = loadConfig({
      ...extraEnv,
      DROIDWORKS_MODEL_PLANNER: 'openai:scripted',
      DROIDWORKS_MODEL_CODER: 'openai:scripted',
      DROIDWORKS_MODEL_REVIEWER: 'openai:scripted',
      DROIDWORKS_MODEL_SUMMARIZER: 'openai:scripted',
    }).models;
    models = createModelRouter(roles, { providers: { openai: scripted }, logger });
  }

  // --deploy: a loopback service under deploy, its hook signed with a server-side secret.
  const hookSecret = o.deploy ? demoHookSecret() : undefined;
  const target = hookSecret ? await startDeployTarget(hookSecret) : undefined;
  if (hookSecret) extraEnv.DROIDWORKS_SECRET_DEMO_HOOK = hookSecret;
  say('Starting Redis, a local GitHub-compatible forge and droidworks (gateway + worker)…');
  // Ctrl-C at any point stops the stack (Redis, forge, sandboxes) instead of killing the process around it.
  const interrupted = new AbortController();
  const interrupt = (): void => interrupted.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const stack = await startStack({ logger, redisUrl: env.REDIS_URL, env: extraEnv, models });
  try {
    const repo = stack.repo.full;
    if (o.schedule) {
      const pr = await demoSchedule(stack, say);
      if (o.keep) await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      return pr === undefined ? 1 : 0;
    }
    say(`Forge up at ${stack.forge.webUrl}; repository ${repo} has a bug: ${SAMPLE_REPO.issue.body}`);
    const issue = stack.forge.createIssue(repo, { ...SAMPLE_REPO.issue, as: 'alice' });
    say(
      `Issue #${issue.number} opened. alice (a writer) labels it \`droid\`; the forge sends a signed webhook to ${stack.gateway.url}/webhooks/github.`,
    );
    stack.forge.addLabel(repo, issue.number, 'droid', 'alice');

    const seen = new Set<string>();
    const deadline = Date.now() + 10 * 60_000;
    let runId: string | undefined;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const labels = stack.forge.issue(repo, issue.number).labels;
      const comment = stack.forge
        .comments(repo, issue.number)
        .find((c) => c.body.includes('droidworks:progress'));
      runId ??= /run=([^ ]+) -->/.exec(comment?.body ?? '')?.[1];
      if (runId && stack.services) {
        for (const e of await stack.services.ledger.events(runId)) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
          const line = narrate(e);
          if (line) say(line);
        }
      }
      if (interrupted.signal.aborted) {
        say('Interrupted: stopping.');
        return 130;
      }
      if (labels.includes('droid:done') || labels.includes('droid:failed') || Date.now() > deadline) break;
    }
    const pr = stack.forge.pulls(repo)[0];
    const done = stack.forge.issue(repo, issue.number).labels.includes('droid:done');
    const dashboard = runId ? `${stack.gateway.url}/runs/${encodeURIComponent(runId)}` : undefined;
    if (done && pr) {
      say(
        `✅ Pull request #${pr.number} is open: ${pr.pull.headRef} → ${pr.pull.baseRef}, check droidworks/tests: success.`,
      );
      say(`The pull request's diff:`);
      console.log(await pullDiff(stack.forge, repo, pr.pull.baseRef, pr.pull.headRef));
    } else {
      say('❌ The run did not succeed; the progress comment says why:');
      console.log(
        stack.forge
          .comments(repo, issue.number)
          .map((c) => c.body)
          .join('\n---\n'),
      );
    }
    say(`See it${o.keep ? ' (while this runs)' : ''}:`);
    if (dashboard) say(`   the run on the dashboard:  ${dashboard}`);
    say(`   every run:                 ${stack.gateway.url}/runs`);
    if (pr) say(`   the pull request (API):    curl -s ${stack.forge.url}/repos/${repo}/pulls/${pr.number}`);
    say(
      `   the issue's comments:      curl -s ${stack.forge.url}/repos/${repo}/issues/${issue.number}/comments`,
    );
    say('See a scheduled maintenance run: `npm run demo -- --schedule`.');
    say(
      'Point droidworks at real GitHub: set GITHUB_TOKEN (or GITHUB_APP_ID + GITHUB_PRIVATE_KEY), GITHUB_WEBHOOK_SECRET and a model key, then `npx droidworks start`, and add a webhook to /webhooks/github (README: "Running it for real").',
    );
    const deployed = done && pr && target ? await deployAct(stack, target, pr.number) : true;
    if (o.keep) {
      say(
        'The forge and the dashboard keep running until Ctrl-C (`droidworks demo --exit` ends here instead).',
      );
      if (!interrupted.signal.aborted)
        await new Promise<void>((resolve) => interrupted.signal.addEventListener('abort', () => resolve()));
    }
    return done && deployed ? 0 : 1;
  } finally {
    await stack.close();
    await target?.close();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

/** `git diff base...head` of a pull request on the forge, cloned with the App's installation token. */
async function pullDiff(forge: Forge, repo: string, base: string, head: string): Promise<string> {
  const [owner, name] = repo.split('/') as [string, string];
  const dir = await mkdtemp(join(tmpdir(), 'dw-demo-diff-'));
  try {
    const basic = Buffer.from(`x-access-token:${forge.installationToken(owner)}`).toString('base64');
    const git = promisify(execFile);
    await git('git', [
      '-c',
      `http.extraHeader=Authorization: Basic ${basic}`,
      'clone',
      '--quiet',
      '--bare',
      forge.gitUrl(owner, name),
      dir,
    ]);
    const { stdout } = await git('git', ['--git-dir', dir, 'diff', '--color=auto', `${base}...${head}`]);
    return stdout.trimEnd();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function narrate(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run.started':
      return `Run started (workflow ${String(e.workflow)}).`;
    case 'step.started':
      return `→ ${String(e.step)}`;
    case 'plan':
      return `Plan:\n${(e.items as string[]).map((i) => `         - ${i}`).join('\n')}`;
    case 'agent.tool':
      return `   tool ${String(e.tool)} ${e.ok ? 'ok' : 'failed'}`;
    case 'tests':
      return `   tests \`${String(e.command)}\`: ${e.passed ? 'pass' : 'fail'}`;
    case 'review':
      return `   review: ${e.approved ? 'approved' : 'changes requested'}`;
    case 'pull_request':
      return `   pull request #${String(e.number)} ${e.created ? 'opened' : 'updated'}`;
    case 'run.finished':
      return `Run finished: ${String(e.status)}.`;
    default:
      return undefined;
  }
}
