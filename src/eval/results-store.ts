import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TaskResult } from './run-task.js';

/** The key a result is stored under: task, config settings and repeat. */
export function resultKey(r: Pick<TaskResult, 'instanceId' | 'configHash' | 'repeat'>): string {
  return `${r.instanceId}\t${r.configHash}\t${r.repeat}`;
}

/**
 * Results kept one JSON line each, appended as each (task, config, repeat) finishes: an
 * interrupted eval reads them back and runs only what is missing. A torn last line is ignored.
 */
export class ResultsStore {
  constructor(readonly path: string) {}

  async read(): Promise<Map<string, TaskResult>> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const results = new Map<string, TaskResult>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as TaskResult;
        results.set(resultKey(r), r);
      } catch {
        // A line cut short by an interruption: that task runs again.
        continue;
      }
    }
    return results;
  }

  async append(result: TaskResult): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify(result)}\n`);
  }
}
