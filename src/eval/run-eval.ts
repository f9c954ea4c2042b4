import type { EvalConfig } from './eval-config.js';
import { resultKey, type ResultsStore } from './results-store.js';
import { runTask, type RunTaskDeps, type TaskResult } from './run-task.js';
import type { EvalTask } from './task-file.js';

export interface RunEvalOptions {
  readonly tasks: readonly EvalTask[];
  readonly configs: readonly EvalConfig[];
  /** @defaultValue 1 */
  readonly repeat?: number;
  /** Tasks run at once. @defaultValue 1 */
  readonly concurrency?: number;
  readonly store: ResultsStore;
  /** After each finished (task, config, repeat), with how many are done of how many. */
  readonly onProgress?: (done: number, total: number, result: TaskResult | undefined) => void;
}

/**
 * Every (task, config, repeat) not already in the store, `concurrency` at a time; each result is
 * stored as soon as it is known, so an interrupted eval resumes where it stopped. Returns every
 * result of these tasks and configs, stored earlier or now.
 */
export async function runEval(deps: RunTaskDeps, options: RunEvalOptions): Promise<TaskResult[]> {
  const repeat = options.repeat ?? 1;
  const stored = await options.store.read();
  const all: Array<{ task: EvalTask; config: EvalConfig; repeat: number }> = [];
  for (let r = 1; r <= repeat; r++)
    for (const config of options.configs)
      for (const task of options.tasks) all.push({ task, config, repeat: r });
  const key = (w: (typeof all)[number]) =>
    resultKey({ instanceId: w.task.instance_id, configHash: w.config.hash, repeat: w.repeat });
  const todo = all.filter((w) => !stored.has(key(w)));
  let done = all.length - todo.length;
  options.onProgress?.(done, all.length, undefined);
  const results = new Map(stored);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      deps.signal?.throwIfAborted();
      const w = todo[next++]!;
      const result = await runTask(deps, w.task, w.config, w.repeat);
      // Cut short by the interruption (a test run killed half-way): not a result, it runs again.
      deps.signal?.throwIfAborted();
      await options.store.append(result);
      results.set(key(w), result);
      done += 1;
      options.onProgress?.(done, all.length, result);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, todo.length)) }, worker),
  );
  return all.map((w) => results.get(key(w))).filter((r): r is TaskResult => r !== undefined);
}
