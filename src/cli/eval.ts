import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/load-config.js';
import { readEvalConfig } from '../eval/eval-config.js';
import { renderHtml, renderTable } from '../eval/render-report.js';
import { ResultsStore } from '../eval/results-store.js';
import { runEval } from '../eval/run-eval.js';
import { modelEnvLines, recommend, summarize, type EvalReport } from '../eval/summarize.js';
import { readTasks } from '../eval/task-file.js';
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
  const sandboxes = createSandboxProvider(config.sandbox, {
    logger,
    workRoot: join(config.dataDir, 'sandboxes'),
  });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const tty = process.stderr.isTTY;
  try {
    const results = await runEval(
      {
        sandboxes,
        models: createModelRouter(config.models, { logger }),
        budgets: config.budgets,
        sourceOf: repositorySource(config.github.apiUrl, o.reposDir),
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
        store: new ResultsStore(join(out, 'results.jsonl')),
        onProgress: (done, total, r) => {
          const width = 30;
          const bar = '#'.repeat(Math.round((done / Math.max(1, total)) * width)).padEnd(width, '.');
          const what = r
            ? ` ${r.config} ${r.instanceId}#${r.repeat}: ${r.resolved ? 'resolved' : r.error ? `error (${r.error.slice(0, 80)})` : 'unresolved'}`
            : '';
          if (tty) process.stderr.write(`\r[${bar}] ${done}/${total}${what}`.padEnd(120).slice(0, 160));
          else if (r) console.error(`[${done}/${total}]${what}`);
        },
      },
    );
    if (tty) process.stderr.write('\n');
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

/** `droidworks eval recommend`: the cheapest config within `margin` of the best resolve rate. */
export async function evalRecommend(o: { report: string; margin: number }): Promise<number> {
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
  const lines = modelEnvLines(report, pick.config);
  console.log(lines.length ? lines.join('\n') : '# it uses the server defaults for every role');
  return 0;
}
