import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../config/config-error.js';

/** A test list: SWE-bench stores it as a JSON-encoded string, our own files as an array. */
const testList = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}, z.array(z.string()));

/** One evaluation task, in SWE-bench's JSONL format (extra fields are kept, not required). */
export const evalTaskSchema = z.looseObject({
  instance_id: z.string().min(1),
  /** `owner/name`. */
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must look like owner/name'),
  base_commit: z.string().regex(/^[0-9a-f]{7,40}$/, 'must be a commit SHA'),
  problem_statement: z.string().min(1),
  /** The fix's changes to test files: hidden from the droid, applied before scoring. */
  test_patch: z.string(),
  /** The rest of the fix, kept for reporting only. */
  patch: z.string().default(''),
  FAIL_TO_PASS: testList,
  PASS_TO_PASS: testList.default([]),
});
export type EvalTask = z.output<typeof evalTaskSchema>;

/** Reads a JSONL task file; every bad line is reported at once with its line number and field. */
export async function readTasks(path: string): Promise<EvalTask[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [{ path, message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` }],
      'the task file',
    );
  }
  const tasks: EvalTask[] = [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      problems.push({ path: `line ${i + 1}`, message: `is not JSON (${(err as Error).message})` });
      return;
    }
    const parsed = evalTaskSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ path: `line ${i + 1}: ${issue.path.join('.') || '(task)'}`, message: issue.message });
      return;
    }
    if (seen.has(parsed.data.instance_id))
      problems.push({ path: `line ${i + 1}: instance_id`, message: `repeats "${parsed.data.instance_id}"` });
    seen.add(parsed.data.instance_id);
    tasks.push(parsed.data);
  });
  if (problems.length > 0) throw new ConfigError(problems, path);
  if (tasks.length === 0) throw new ConfigError([{ path, message: 'has no tasks' }], 'the task file');
  return tasks;
}
