import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { runAgent } from '../agent/run-agent.js';
import type { Config } from '../config/load-config.js';
import { createModelRouter } from '../models/router.js';
import { createSandboxProvider } from '../sandbox/create-sandbox-provider.js';
import type { Logger } from '../util/logger.js';
import { join } from 'node:path';

/**
 * `droidworks run --dir --task`: the agent loop on a local checkout, in a sandbox whose workspace
 * is that checkout; prints the transcript live and the final diff.
 */
export async function runLocal(o: {
  config: Config;
  logger: Logger;
  dir: string;
  task: string;
}): Promise<number> {
  const dir = resolve(o.dir);
  const sandboxes = createSandboxProvider(o.config.sandbox, {
    logger: o.logger,
    workRoot: join(o.config.dataDir, 'sandboxes'),
  });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const sandbox = await sandboxes.acquire({
    runId: `local-${Date.now()}`,
    workspaceDir: dir,
    signal: controller.signal,
  });
  try {
    const result = await runAgent({
      task: o.task,
      workspace: dir,
      workspaceAliases: ['/workspace'],
      executor: sandbox,
      models: createModelRouter(o.config.models, { logger: o.logger }),
      budgets: o.config.budgets,
      signal: controller.signal,
      sink: { emit: async (e) => void console.log(JSON.stringify(e)) },
    });
    console.log(`\nstopped: ${result.reason}${result.summary ? `\n${result.summary}` : ''}`);
    const { stdout } = await promisify(execFile)('git', ['-C', dir, 'diff'], { maxBuffer: 64 * 1024 * 1024 });
    console.log(stdout);
    return result.reason === 'finished' ? 0 : 1;
  } finally {
    await sandbox.release();
    await sandboxes.close();
  }
}
