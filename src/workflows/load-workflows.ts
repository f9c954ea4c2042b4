import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from '../config/config-error.js';
import { parseWorkflow, type WorkflowDefinition } from './parse-workflow.js';

/** A definition file's text, already fetched (a repository's `.droidworks/workflows/*`). */
export interface WorkflowFile {
  readonly path: string;
  readonly content: string;
}

/** Why one file was left out. */
export interface WorkflowFileProblems {
  readonly source: string;
  readonly problems: readonly ConfigProblem[];
  /** Whether the file is a built-in or the repository's. */
  readonly origin?: WorkflowDefinition['origin'];
  /** The workflow the file meant to define (its `name`, or its file name), when known. */
  readonly name?: string;
}

export interface LoadWorkflowsOptions {
  /** Folder of the built-in definitions, usually {@link builtinWorkflowsDir}. */
  readonly builtinDir: string;
  /** A repository's own definitions; they add workflows or replace built-ins of the same name. @defaultValue `[]` */
  readonly repoFiles?: readonly WorkflowFile[];
  /** Step kinds that exist (`Object.keys(STEP_IMPLS)`); others make a file invalid. @defaultValue any */
  readonly stepKinds?: Iterable<string>;
}

export interface LoadedWorkflows {
  /**
   * Valid workflows by name, in match order: a repository's own first, then built-ins, each by name,
   * so a repository's workflow wins over a built-in with an overlapping trigger.
   */
  readonly workflows: Map<string, WorkflowDefinition>;
  /** Invalid files, each excluded whole. Empty when everything loaded. */
  readonly problems: WorkflowFileProblems[];
}

const WORKFLOW_EXTENSIONS = new Set(['.yml', '.yaml', '.md']);

/**
 * The top-level `workflows/` folder the package ships. Two levels above this file both in the
 * sources (`src/workflows/`) and in the build (`dist/workflows/`).
 */
export function builtinWorkflowsDir(): string {
  return fileURLToPath(new URL('../../workflows/', import.meta.url));
}

/**
 * Loads the built-in definitions from disk, then a repository's (given as contents, so no GitHub
 * I/O here) on top, by name. Every invalid file is reported with its problems and left out.
 */
export async function loadWorkflows(options: LoadWorkflowsOptions): Promise<LoadedWorkflows> {
  const entries = await readdir(options.builtinDir, { withFileTypes: true });
  const builtinFiles = await Promise.all(
    entries
      .filter((e) => e.isFile() && WORKFLOW_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map(async (e): Promise<WorkflowFile> => {
        const path = join(options.builtinDir, e.name);
        return { path, content: await readFile(path, 'utf8') };
      }),
  );

  const problems: WorkflowFileProblems[] = [];
  const kinds = options.stepKinds ? [...options.stepKinds] : undefined;
  const builtins = collect(builtinFiles, 'builtin', problems, kinds);
  const own = collect(options.repoFiles ?? [], 'repository', problems, kinds);

  const workflows = new Map<string, WorkflowDefinition>();
  for (const def of byName(own)) workflows.set(def.name, def);
  for (const def of byName(builtins)) if (!workflows.has(def.name)) workflows.set(def.name, def);
  return { workflows, problems };
}

/** Parses each file (in path order); the first of two files with one name wins, the second is reported. */
function collect(
  files: readonly WorkflowFile[],
  origin: WorkflowDefinition['origin'],
  problems: WorkflowFileProblems[],
  stepKinds: readonly string[] | undefined,
): Map<string, WorkflowDefinition> {
  const found = new Map<string, WorkflowDefinition>();
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const parsed = parseWorkflow(file.content, file.path, origin, stepKinds ? { stepKinds } : {});
    if (!parsed.ok) {
      problems.push({
        source: file.path,
        problems: parsed.problems,
        origin,
        ...(parsed.name !== undefined ? { name: parsed.name } : {}),
      });
      continue;
    }
    const earlier = found.get(parsed.workflow.name);
    if (earlier) {
      problems.push({
        source: file.path,
        origin,
        problems: [
          { path: 'name', message: `"${parsed.workflow.name}" is already defined in ${earlier.source}` },
        ],
      });
      continue;
    }
    found.set(parsed.workflow.name, parsed.workflow);
  }
  return found;
}

function byName(defs: Map<string, WorkflowDefinition>): WorkflowDefinition[] {
  return [...defs.values()].sort((a, b) => a.name.localeCompare(b.name));
}
