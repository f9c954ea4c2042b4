#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type Config, type LoadConfigOptions } from '../config/load-config.js';
import { describeEvent, RunLedger } from '../ledger/index.js';
import { createRedisConnection, openRedis } from '../queue/redis-connection.js';
import { createLogger, type Logger } from '../util/logger.js';
import { createContext } from './context.js';
import { HELP } from './help-text.js';
import { createLifecycle } from './lifecycle.js';
import { preflight } from './preflight.js';
import { registerOperateCommands } from './operate-commands.js';
import { redisFor } from './redis-for.js';
import { serveGateway } from './serve-gateway.js';
import { serveWorker } from './serve-worker.js';
import { exitCodeFor, isUserFacing } from './user-facing.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('droidworks')
  .description(
    'Self-hosted CI/CD droid orchestrator: GitHub issues and commands become tested pull requests.',
  )
  .version(pkg.version, '-V, --version', 'print the droidworks version')
  .option('--dotenv <path>', 'read settings from this .env file too (default: ./.env when it exists)');

function setup(require: LoadConfigOptions['require']): { config: Config; logger: Logger } {
  const given = program.opts<{ dotenv?: string }>().dotenv;
  const config = loadConfig(process.env, {
    require,
    envFile: given ?? '.env',
    envFileRequired: given !== undefined,
  });
  return { config, logger: createLogger({ level: config.logLevel }) };
}

async function serve(command: 'start' | 'gateway' | 'worker', smee?: string): Promise<void> {
  const halves = command === 'start' ? (['gateway', 'worker'] as const) : ([command] as const);
  const withWorker = halves.includes('worker' as never);
  const withGateway = halves.includes('gateway' as never);
  const { config, logger } = setup([...halves]);
  const lifecycle = createLifecycle(logger);
  // Closed last (added first): the spans of everything stopping are still sent. The SDK is loaded
  // only when tracing is on (it costs ~0.3 s of start-up).
  const tracing = config.tracing.url
    ? (await import('../telemetry/start-tracing.js')).startTracing(config.tracing, logger, pkg.version)
    : undefined;
  if (tracing) lifecycle.add(() => tracing.shutdown());
  try {
    // Everything this process needs answers before anything starts, or one message says what does not.
    await preflight(config, { redis: true, docker: withWorker, github: withWorker }, logger);
    const target = await redisFor(config, command, logger);
    if (target.embedded) lifecycle.add(() => target.embedded!.stop());
    if (withWorker) {
      const redis = createRedisConnection(target.url, {
        role: 'worker',
        onError: (err) => logger.warn({ err: err.message }, 'worker redis connection error'),
      });
      lifecycle.add(async () => redis.disconnect());
      const services = createContext(config, logger, redis);
      const worker = await serveWorker({ services, redisUrl: target.url, redis, tracer: tracing?.tracer });
      lifecycle.add(() => worker.close());
    }
    if (withGateway) {
      // `/readyz` checks only Redis: receiving webhooks needs nothing else. GitHub is the worker's.
      const gateway = await serveGateway({ config, redisUrl: target.url, logger, tracer: tracing?.tracer });
      lifecycle.add(() => gateway.close());
      if (smee) {
        const { forwardSmee } = await import('./forward-smee.js');
        const forwarder = await forwardSmee({
          channel: smee,
          target: `${gateway.url}/webhooks/github`,
          logger,
        });
        lifecycle.add(() => forwarder.close());
      }
    }
  } catch (err) {
    await lifecycle.close();
    throw err;
  }
  await lifecycle.untilSignal();
}

const SMEE_OPTION =
  'receive webhooks through this smee.io channel (development without a public address, as Probot does)';

program
  .command('start')
  .description(
    'gateway + worker in one process (the single-machine default; embedded Redis when REDIS_URL is unset)',
  )
  .option('--smee <url>', SMEE_OPTION)
  .addHelpText('after', HELP.start!)
  .action((opts: { smee?: string }) => serve('start', opts.smee));
program
  .command('gateway')
  .description('only the webhook gateway (scale out behind a load balancer)')
  .option('--smee <url>', SMEE_OPTION)
  .addHelpText('after', HELP.gateway!)
  .action((opts: { smee?: string }) => serve('gateway', opts.smee));
program
  .command('worker')
  .description('only a worker (any number, on any number of Docker hosts)')
  .addHelpText('after', HELP.worker!)
  .action(() => serve('worker'));

program
  .command('doctor')
  .description('check Redis, GitHub auth, Docker and model keys, and say how to fix what is missing')
  .addHelpText('after', HELP.doctor!)
  .action(async () => {
    const { runDoctor } = await import('./doctor.js');
    const given = program.opts<{ dotenv?: string }>().dotenv;
    process.exitCode = await runDoctor(process.env, { envFile: given ?? '.env', envFileRequired: !!given });
  });

program
  .command('runs')
  .description('inspect runs')
  .command('show <runId>')
  .description("print a run's state and ledger")
  .option('--json', 'one JSON object per event instead of a readable line')
  .addHelpText('after', HELP['runs show']!)
  .action(async (runId: string, opts: { json?: boolean }) => {
    const { config } = setup([]);
    if (!config.redisUrl)
      throw new ConfigError([
        { path: 'REDIS_URL', message: 'is required to read runs', example: 'redis://127.0.0.1:6379' },
      ]);
    const redis = await openRedis(config.redisUrl, { role: 'producer' });
    try {
      const ledger = new RunLedger(redis, config.queuePrefix);
      const state = await ledger.state(runId);
      const events = await ledger.events(runId);
      if (events.length === 0 && Object.keys(state).length === 0) {
        console.error(`no run ${runId} in ${config.queuePrefix} at REDIS_URL`);
        process.exitCode = 1;
        return;
      }
      console.log(JSON.stringify(state, null, 2));
      for (const e of events) {
        const line = opts.json ? JSON.stringify(e) : `${e.type.padEnd(22)} ${describeEvent(e)}`;
        console.log(`${new Date(e.at).toISOString()} ${line}`);
      }
    } finally {
      redis.disconnect();
    }
  });

program
  .command('run')
  .description(
    'run once without the gateway: --dir <checkout> --task "<text>" (agent loop on a local checkout), or --repo owner/name --issue <n> (the resolve-issue workflow against GitHub)',
  )
  .option('--dir <path>', 'a local git checkout')
  .option('--task <text>', 'what to do (with --dir)')
  .option('--repo <owner/name>', 'a GitHub repository')
  .option('--issue <number>', 'an issue of --repo', (v) => Number.parseInt(v, 10))
  .addHelpText('after', HELP.run!)
  .action(async (opts: { dir?: string; task?: string; repo?: string; issue?: number }) => {
    if (opts.dir && opts.task) {
      const { runLocal } = await import('./run-local.js');
      const { config, logger } = setup([]);
      process.exitCode = await runLocal({ config, logger, dir: opts.dir, task: opts.task });
    } else if (opts.repo && opts.issue) {
      const { runIssue } = await import('./run-issue.js');
      const { config, logger } = setup(['worker']);
      process.exitCode = await runIssue({ config, logger, repo: opts.repo, issue: opts.issue });
    } else {
      console.error('droidworks run needs --dir and --task, or --repo and --issue');
      process.exitCode = 2;
    }
  });

program
  .command('demo')
  .description('a local forge, the embedded Redis and droidworks: label an issue and watch a PR appear')
  .option('--exit', 'exit once the PR is open (default when stdout is not a terminal)')
  .option('--keep', 'keep running after the PR is open even when stdout is not a terminal')
  .option(
    '--deploy',
    'then merge the PR and deploy it to staging and production; a broken change is rolled back',
  )
  .option('--schedule', 'show a scheduled maintenance run instead (a prompt workflow on a schedule)')
  .addHelpText('after', HELP.demo!)
  .action(async (opts: { exit?: boolean; keep?: boolean; deploy?: boolean; schedule?: boolean }) => {
    const { runDemo } = await import('./demo.js');
    const keep = opts.exit ? false : opts.keep === true || process.stdout.isTTY === true;
    process.exitCode = await runDemo({
      keep,
      deploy: opts.deploy === true,
      schedule: opts.schedule === true,
    });
  });

const evalCommand = program
  .command('eval')
  .description(
    "choose models by measured cost per fix on your own repository's history (never writes to GitHub)",
  );
evalCommand
  .command('run')
  .description(
    'run tasks (SWE-bench JSONL) against one or more configs; resumable; writes report.json and report.html',
  )
  .requiredOption('--tasks <file>', 'tasks in SWE-bench JSONL')
  .requiredOption(
    '--config <file>',
    'a config (role lists, budgets); repeat for each config',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .option('--repeat <n>', 'runs per task and config', (v) => Number.parseInt(v, 10), 1)
  .option('--concurrency <n>', 'tasks at once', (v) => Number.parseInt(v, 10), 1)
  .option('--out <dir>', 'results and reports (default: <DROIDWORKS_DATA_DIR>/eval)')
  .option(
    '--repos-dir <dir>',
    'local mirrors as <dir>/<owner>/<name> (default: clone from the configured GitHub)',
  )
  .option('--test-command <cmd>', 'instead of the detected test command')
  .action(
    async (opts: {
      tasks: string;
      config: string[];
      repeat: number;
      concurrency: number;
      out?: string;
      reposDir?: string;
      testCommand?: string;
    }) => {
      const { evalRun } = await import('./eval.js');
      const { config, logger } = setup([]);
      process.exitCode = await evalRun(opts, config, logger);
    },
  );
evalCommand
  .command('mine')
  .description(
    'tasks from issues closed by merged PRs that changed tests and code, checked in a sandbox (reads GitHub, writes nothing there)',
  )
  .requiredOption('--repo <owner/name>', 'the repository')
  .option('--since <days>', 'merged within this many days, e.g. 180d', '180d')
  .option('--limit <n>', 'tasks at most', (v) => Number.parseInt(v, 10), 50)
  .option('--out <file>', 'SWE-bench JSONL to write', 'tasks.jsonl')
  .option('--repos-dir <dir>', 'a local mirror as <dir>/<owner>/<name> instead of cloning')
  .option('--test-command <cmd>', 'instead of the detected test command')
  .action(
    async (opts: {
      repo: string;
      since: string;
      limit: number;
      out: string;
      reposDir?: string;
      testCommand?: string;
    }) => {
      const { evalMine } = await import('./eval.js');
      const { config, logger } = setup(['worker']);
      process.exitCode = await evalMine(opts, config, logger);
    },
  );
evalCommand
  .command('recommend')
  .description(
    'the cheapest config whose resolve rate is within --margin of the best, as DROIDWORKS_MODEL_* lines',
  )
  .option('--report <file>', 'report.json of `eval run`', '.droidworks/eval/report.json')
  .option('--margin <points>', 'allowed resolve-rate gap, 0–1', (v) => Number.parseFloat(v), 0.05)
  .option('--per-role', 'then swap single roles to cheaper models where that lost no resolved task')
  .action(async (opts: { report: string; margin: number; perRole?: boolean }) => {
    const { evalRecommend } = await import('./eval.js');
    process.exitCode = await evalRecommend(opts);
  });

registerOperateCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!isUserFacing(err)) throw err;
  // One message a user can act on; no stack trace. Exit now: a half-started client must not keep
  // the process alive (everything this process started was stopped before the error got here).
  console.error(err.message);
  process.exit(exitCodeFor(err));
}
