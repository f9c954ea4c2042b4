import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/load-config.js';
import { readEvalConfig } from '../eval/eval-config.js';
import { mineTasks } from '../eval/mine-tasks.js';
import { mirrorRepository } from '../eval/mirror.js';
import { renderHtml, renderTable } from '../eval/render-report.js';
import { ResultsStore } from '../eval/results-store.js';
import { runEval } from '../eval/run-eval.js';
import {
  envLines,
  modelEnvLines,
  recommend,
  recommendPerRole,
  summarize,
  type EvalReport,
} from '../eval/summarize.js';
import { readTasks } from '../eval/task-file.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { createModelRouter } from '../models/router.js';
import { createSandboxProvider } from '../sandbox/create-sandbox-provider.js';
import type { Logger } from '../util/logger.js';

export interface EvalRunOptions {
  readonly tasks: string;
  readonly config: readonly string[];
  readonly repeat: number;
  readonly concurrency: number;
  readonly out?: string;
  readonly reposDir?: string;
  readonly testCommand?: string;
}

/** Where `owner/name` is cloned from: a local mirror directory, or the configured GitHub host. */
export function repositorySource(apiUrl: string, reposDir?: string): (repo: string) => string {
  if (reposDir) {
    const root = resolve(reposDir);
    return (repo) => {
      const nested = join(root, repo);
      return existsSync(nested) ? nested : join(root, repo.replace('/', '__'));
    };
  }
  const url = new URL(apiUrl);
  const web = url.hostname === 'api.github.com' ? 'https://github.com' : `${url.protocol}//${url.host}`;
  return (repo) => `${web}/${repo}.git`;
}

/**
 * Where each repository is cloned from: `--repos-dir` as given, otherwise a bare mirror under the
 * data directory fetched from the configured GitHub (with its credentials, when set).
 */
async function sourcesFor(
  repos: readonly string[],
  config: Config,
  reposDir: string | undefined,
  signal: AbortSignal,
): Promise<(repo: string) => string> {
  const from = repositorySource(config.github.apiUrl, reposDir);
  if (reposDir) return from;
  const github = config.github.auth ? createGitHubHost(config.github) : undefined;
  const mirrors = new Map<string, string>();
  for (const repo of new Set(repos)) {
    const [owner = '', name = ''] = repo.split('/');
    const token = github ? (await github.getGitToken({ owner, repo: name }, { signal })).token : undefined;
    mirrors.set(
      repo,
      await mirrorRepository({
        cloneUrl: from(repo),
        dir: join(config.dataDir, 'eval', 'mirrors', owner, `${name}.git`),
        token,
        signal,
      }),
    );
  }
  return (repo) => mirrors.get(repo) ?? from(repo);
}

/** `droidworks eval mine`: tasks from the repository's own fixed issues, as SWE-bench JSONL. */
export async function evalMine(
  o: { repo: string; since: string; limit: number; out: string; reposDir?: string; testCommand?: string },
  config: Config,
  logger: Logger,
): Promise<number> {
  const [owner, name] = o.repo.split('/');
  if (!owner || !name) throw new Error(`--repo must look like owner/name, not "${o.repo}"`);
  const days = /^(\d+)d$/.exec(o.since);
  if (!days) throw new Error(`--since must be a number of days such as 180d, not "${o.since}"`);
  const since = new Date(Date.now() - Number(days[1]) * 86_400_000);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const github = createGitHubHost(config.github, { logger });
  const sourceOf = await sourcesFor([o.repo], config, o.reposDir, controller.signal);
  const sandboxes = createSandboxProvider(config.sandbox, {
    logger,
    workRoot: join(config.dataDir, 'sandboxes'),
  });
  try {
    const { tasks, dropped } = await mineTasks(
      {
        github,
        sandboxes,
        mirror: sourceOf(o.repo),
        testCommand: o.testCommand,
        secrets: [],
        signal: controller.signal,
        onCandidate: (pull, outcome) =>
          console.error(
            'reason' in outcome
              ? `#${pull}: dropped (${outcome.reason})`
              : `#${pull}: task ${outcome.instance_id}, FAIL_TO_PASS ${outcome.FAIL_TO_PASS.join(', ')}`,
          ),
      },
      { owner, repo: name },
      { since, limit: o.limit },
    );
    await writeFile(o.out, tasks.map((t) => JSON.stringify(t)).join('\n') + (tasks.length ? '\n' : ''));
    console.log(
      `${tasks.length} task${tasks.length === 1 ? '' : 's'} written to ${o.out}; ${dropped.length} dropped`,
    );
    for (const d of dropped)
      console.log(`  dropped #${d.pull}${d.issue ? ` (issue #${d.issue})` : ''}: ${d.reason}`);
    return tasks.length > 0 ? 0 : 1;
  } finally {
    await sandboxes.close();
  }
}

/** `droidworks eval run`: runs, stores and reports; never writes to GitHub. */
export async function evalRun(o: EvalRunOptions, config: Config, logger: Logger): Promise<number> {
  const tasks = await readTasks(o.tasks);
  const configs = await Promise.all(o.config.map(readEvalConfig));
  const names = new Set<string>();
  for (const c of configs) {
    if (names.has(c.name)) throw new Error(`two eval configs are named "${c.name}": give one a \`name:\``);
    names.add(c.name);
  }
  const out = resolve(o.out ?? join(config.dataDir, 'eval'));
  await mkdir(out, { recursive: true });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const sourceOf = await sourcesFor(
    tasks.map((t) => t.repo),
    config,
    o.reposDir,
    controller.signal,
  );
  const sandboxes = createSandboxProvider(config.sandbox, {
    logger,
    workRoot: join(config.dataDir, 'sandboxes'),
  });
  const tty = process.stderr.isTTY;
  const store = new ResultsStore(join(out, 'results.jsonl'));
  const progress = { done: 0, total: 0 };
  try {
    const results = await runEval(
      {
        sandboxes,
        models: createModelRouter(config.models, { logger }),
        config,
        sourceOf,
        testCommand: o.testCommand,
        secrets: [config.models.openai.apiKey, config.models.anthropic.apiKey],
        logger,
        signal: controller.signal,
      },
      {
        tasks,
        configs,
        repeat: o.repeat,
        concurrency: o.concurrency,
        store,
        onProgress: (done, total, r) => {
          Object.assign(progress, { done, total });
          const width = 30;
          const bar = '#'.repeat(Math.round((done / Math.max(1, total)) * width)).padEnd(width, '.');
          const what = r
            ? ` ${r.config} ${r.instanceId}#${r.repeat}: ${r.resolved ? 'resolved' : r.error ? `error (${r.error.slice(0, 80)})` : r.runError ? `failed (${r.runError.slice(0, 80)})` : 'unresolved'}`
            : '';
          if (tty) process.stderr.write(`\r[${bar}] ${done}/${total}${what}`.padEnd(120).slice(0, 160));
          else if (r) console.error(`[${done}/${total}]${what}`);
        },
      },
    ).catch((err: unknown) => {
      if (!controller.signal.aborted) throw err;
      return undefined;
    });
    if (tty) process.stderr.write('\n');
    if (!results) {
      console.error(
        `interrupted: ${progress.done} of ${progress.total} results are stored in ${store.path}; run the same command to go on from there`,
      );
      return 130;
    }
    const report = summarize(results, configs);
    await writeFile(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(out, 'report.html'), renderHtml(report));
    console.log(renderTable(report));
    console.log(`\nreport: ${join(out, 'report.json')}, ${join(out, 'report.html')}`);
    return 0;
  } finally {
    await sandboxes.close();
  }
}

/**
 * `droidworks eval recommend`: the cheapest config within `margin` of the best resolve rate; with
 * `perRole`, then each role swapped to a cheaper list where the results show it costs no resolved task.
 */
export async function evalRecommend(o: {
  report: string;
  margin: number;
  perRole?: boolean;
}): Promise<number> {
  const report = JSON.parse(await readFile(o.report, 'utf8')) as EvalReport;
  const pick = recommend(report, o.margin);
  if (!pick) {
    console.error(`no results in ${o.report}: run \`droidworks eval run\` first`);
    return 1;
  }
  const best = Math.max(...report.configs.map((c) => c.resolveRate));
  console.log(
    `# ${pick.config}: resolves ${(pick.resolveRate * 100).toFixed(0)}% (best ${(best * 100).toFixed(0)}%, margin ${(o.margin * 100).toFixed(0)} points) at $${pick.costPerTaskUsd.toFixed(4)} per task`,
  );
  const perRole = o.perRole ? recommendPerRole(report, o.margin) : undefined;
  for (const swap of perRole?.swaps ?? [])
    console.log(
      `# ${swap.role}: ${swap.to.join(',') || 'the server default'} instead of ${swap.from.join(',') || 'the server default'} (${swap.evidence.with} vs ${swap.evidence.without}: no resolved task lost, $${swap.savedPerTaskUsd.toFixed(4)} less per task)`,
    );
  if (perRole && perRole.swaps.length === 0)
    console.log(
      '# per role: no evaluated pair of configs differing in one role shows a cheaper list that loses nothing',
    );
  if (perRole?.swaps.length)
    console.log('# the combination was not evaluated as a whole: add it as a config to confirm');
  const lines = perRole ? envLines(perRole.roles) : modelEnvLines(report, pick.config);
  console.log(lines.length ? lines.join('\n') : '# it uses the server defaults for every role');
  return 0;
}
