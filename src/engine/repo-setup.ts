import { ConfigError } from '../config/config-error.js';
import { DEFAULT_REPO_CONFIG, parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import type { GitHubHost } from '../github/types.js';
import { STEP_IMPLS } from '../steps/index.js';
import { loadWorkflows, type WorkflowFileProblems } from '../workflows/load-workflows.js';
import type { WorkflowDefinition } from '../workflows/parse-workflow.js';

/** What a repository's default branch says about how droidworks works there. */
export interface RepoSetup {
  readonly commitSha: string;
  /** `.droidworks.yml`, or the defaults when it is absent; undefined when it is invalid. */
  readonly config: RepoConfig | undefined;
  /** Why `.droidworks.yml` is invalid (every problem, by field path). */
  readonly configError: ConfigError | undefined;
  /** Built-ins with the repository's `.droidworks/workflows/` on top. */
  readonly workflows: ReadonlyMap<string, WorkflowDefinition>;
  /** The repository's workflow files that were left out, with their problems. */
  readonly problems: readonly WorkflowFileProblems[];
}

const WORKFLOW_FILE = /\.(ya?ml|md)$/i;

/**
 * Reads `.droidworks.yml` and `.droidworks/workflows/` from the default branch and validates them,
 * cached by commit SHA: one API call per trigger while the default branch does not move.
 */
export function createRepoSetupLoader(github: GitHubHost, builtinDir: string, maxEntries = 200) {
  const cache = new Map<string, Promise<RepoSetup>>();
  async function load(owner: string, repo: string, sha: string, signal?: AbortSignal): Promise<RepoSetup> {
    const ref = { owner, repo };
    let config: RepoConfig | undefined = DEFAULT_REPO_CONFIG;
    let configError: ConfigError | undefined;
    for (const path of ['.droidworks.yml', '.droidworks.yaml']) {
      const file = await github.getFileAt(ref, path, sha, { signal });
      if (!file) continue;
      try {
        config = parseRepoConfig(file.content, path);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        config = undefined;
        configError = err;
      }
      break;
    }
    const entries = await github.listDirectory(ref, '.droidworks/workflows', sha, { signal });
    const repoFiles = [];
    for (const e of entries.filter((e) => e.type === 'file' && WORKFLOW_FILE.test(e.name))) {
      const file = await github.getFileAt(ref, e.path, sha, { signal });
      if (file) repoFiles.push({ path: e.path, content: file.content });
    }
    const loaded = await loadWorkflows({ builtinDir, repoFiles, stepKinds: Object.keys(STEP_IMPLS) });
    return { commitSha: sha, config, configError, workflows: loaded.workflows, problems: loaded.problems };
  }
  return async (owner: string, repo: string, signal?: AbortSignal): Promise<RepoSetup> => {
    const { sha } = await github.getDefaultBranchSha({ owner, repo }, { signal });
    const key = `${owner}/${repo}@${sha}`.toLowerCase();
    let setup = cache.get(key);
    if (!setup) {
      setup = load(owner, repo, sha, signal);
      // A failed read is not cached: the next trigger tries again.
      setup.catch(() => cache.delete(key));
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, setup);
    }
    return setup;
  };
}
