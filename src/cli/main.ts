#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type Config, type LoadConfigOptions } from '../config/load-config.js';
import { RunLedger } from '../engine/ledger.js';
import { RedisServerMissingError } from '../queue/embedded-redis.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { createLogger, type Logger } from '../util/logger.js';
import { createContext } from './context.js';
import { redisFor } from './redis-for.js';
import { serveGateway } from './serve-gateway.js';
import { serveWorker } from './serve-worker.js';

const program = new Command('droidworks')
  .description(
    'Self-hosted CI/CD droid orchestrator: GitHub issues and commands become tested pull requests.',
  )
  .option('--env-file <path>', 'read settings from this .env file too', '.env');

function setup(require: LoadConfigOptions['require']): { config: Config; logger: Logger } {
  const config = loadConfig(process.env, { require, envFile: program.opts<{ envFile: string }>().envFile });
  return { config, logger: createLogger({ level: config.logLevel }) };
}

/** Runs until SIGINT/SIGTERM, then closes everything in reverse order. */
function untilSignal(logger: Logger, closers: Array<() => Promise<void>>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void (async () => {
        for (const close of closers.reverse()) {
          try {
            await close();
          } catch (err) {
            logger.error({ err }, 'error while shutting down; continuing');
          }
        }
        resolve();
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

async function serve(command: 'start' | 'gateway' | 'worker'): Promise<void> {
  const halves = command === 'start' ? (['gateway', 'worker'] as const) : ([command] as const);
  const { config, logger } = setup([...halves]);
  const target = await redisFor(config, command, logger);
  const closers: Array<() => Promise<void>> = [];
  if (target.embedded) closers.push(() => target.embedded!.stop());
  if (halves.includes('worker' as never)) {
    const redis = createRedisConnection(target.url, { role: 'worker' });
    closers.push(async () => redis.disconnect());
    const services = createContext(config, logger, redis);
    const worker = await serveWorker({ services, redisUrl: target.url, redis });
    closers.push(() => worker.close());
  }
  if (halves.includes('gateway' as never)) {
    // `/readyz` also checks GitHub auth (the webhook route itself never calls GitHub).
    const github = config.github.auth ? createGitHubHost(config.github, { logger }) : undefined;
    const gateway = await serveGateway({
      config,
      redisUrl: target.url,
      logger,
      readiness: github
        ? [{ name: 'github', check: async () => void (await github.getAuthenticatedLogin()) }]
        : [],
    });
    closers.push(() => gateway.close());
  }
  await untilSignal(logger, closers);
}

program
  .command('start')
  .description(
    'gateway + worker in one process (the single-machine default; embedded Redis when REDIS_URL is unset)',
  )
  .action(() => serve('start'));
program
  .command('gateway')
  .description('only the webhook gateway (scale out behind a load balancer)')
  .action(() => serve('gateway'));
program
  .command('worker')
  .description('only a worker (any number, on any number of Docker hosts)')
  .action(() => serve('worker'));

program
  .command('doctor')
  .description('check Redis, GitHub auth, Docker and model keys, and say how to fix what is missing')
  .action(async () => {
    const { runDoctor } = await import('./doctor.js');
    process.exitCode = await runDoctor(process.env, program.opts<{ envFile: string }>().envFile);
  });

program
  .command('runs')
  .description('inspect runs')
  .command('show <runId>')
  .description("print a run's state and ledger")
  .action(async (runId: string) => {
    const { config } = setup([]);
    if (!config.redisUrl)
      throw new ConfigError([
        { path: 'REDIS_URL', message: 'is required to read runs', example: 'redis://127.0.0.1:6379' },
      ]);
    const redis = createRedisConnection(config.redisUrl, { role: 'producer' });
    try {
      const ledger = new RunLedger(redis, config.queuePrefix);
      console.log(JSON.stringify(await ledger.state(runId), null, 2));
      for (const e of await ledger.events(runId))
        console.log(`${new Date(e.at).toISOString()} ${JSON.stringify(e)}`);
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
  .option('--keep', 'keep running after the PR is open (to browse the forge)')
  .option('--schedule', 'show a scheduled maintenance run instead (a prompt workflow on a schedule)')
  .action(async (opts: { keep?: boolean; schedule?: boolean }) => {
    const { runDemo } = await import('./demo.js');
    process.exitCode = await runDemo({ keep: opts.keep === true, schedule: opts.schedule === true });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exitCode = 2;
  } else if (err instanceof RedisServerMissingError) {
    console.error(err.message);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
