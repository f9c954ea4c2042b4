import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import { NpmRegistryError, registryAllowEntry } from '../schedules/npm-registry-client.js';
import { renderUpdateTable, type DependencyUpdate } from '../schedules/plan-dependency-updates.js';
import { NPM_SECTIONS, planNpmUpdates } from '../schedules/plan-npm-updates.js';

/** The policy when `.droidworks.yml` enables the workflow without options (or `/droid run` starts it). */
const DEFAULT_POLICY = { update: 'minor', ignore: [], group: 'all' } as const;

/**
 * npm: reads package.json in the checkout, asks the registry (`DROIDWORKS_NPM_REGISTRY`) for newer
 * versions within `maintenance.dependency-update` (update, ignore), keeps the run's group
 * (`job.dependencyGroup`, `all` when the policy does not group), writes the bumps to package.json
 * and applies them with npm in a sandbox of its own whose only way out is the registry (lock file
 * and node_modules). The test step that follows runs the tests offline; the code step may get one
 * bounded attempt at a breakage; publish opens or refreshes the group's one PR, whose description is
 * the table. Nothing new: the run ends here, with no commit.
 */
export const dependencyUpdate: StepImpl<RunContext> = {
  async run(ctx) {
    const { state, repoConfig, services, job } = ctx;
    if (!state.workspace) throw new Error('dependency-update needs the checkout step first');
    const policy = repoConfig.maintenance['dependency-update'] ?? DEFAULT_POLICY;
    const dir = state.workspace.dir;
    const path = join(dir, 'package.json');
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) {
      state.note = 'No package.json: only npm is supported by dependency-update in this release.';
      return { goto: 'report' };
    }
    const registry = services.config.npmRegistry;
    const group = job.dependencyGroup ?? 'all';
    let planned: DependencyUpdate[];
    try {
      planned = await planNpmUpdates({
        packageJson: text,
        registry,
        pins: services.config.sandbox.egress.hosts,
        policy,
        signal: ctx.signal,
      });
    } catch (err) {
      if (!(err instanceof NpmRegistryError)) throw err;
      throw new StepFailedError(
        'dependency-update',
        err.message,
        err.status === undefined || err.status >= 500,
        {
          cause: err,
        },
      );
    }
    const updates = planned.filter((u) => u.group === group);
    await ctx.sink.emit({
      type: 'dependency_updates',
      updates: updates.map((u) => `${u.name}@${u.toVersion}`),
    });
    if (updates.length === 0) {
      state.note = 'Every dependency is up to date within the policy; nothing to propose.';
      return { goto: 'report' };
    }
    const manifest = JSON.parse(text) as Record<string, unknown>;
    for (const section of NPM_SECTIONS) {
      const list = manifest[section] as Record<string, string> | undefined;
      if (!list) continue;
      for (const u of updates) if (list[u.name] !== undefined) list[u.name] = u.to;
    }
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
    const conflict = await applyWithNpm(ctx, registry);

    const table = renderUpdateTable(updates);
    const what = `${updates.length} npm dependenc${updates.length === 1 ? 'y' : 'ies'}`;
    state.summary = `Dependency updates (${policy.update} and below${group === 'all' ? '' : `, group \`${group}\``}):\n\n${table}`;
    if (conflict) {
      // As Renovate does with an artifact problem: the PR is still proposed, as a draft that shows
      // npm's explanation. Nothing for the coder to fix (it may not change the versions) and nothing
      // to test against: package.json has the new ranges, the lock file is as it was.
      state.installFailure = conflict;
      state.summary += `\n\nnpm could not apply ${updates.length === 1 ? 'this update' : 'these updates'}: the updated dependency tree has a peer dependency conflict (ERESOLVE). package.json has the new ranges and the lock file is unchanged, so the tests did not run. Resolve the conflict (for example by updating the package that asks for the other peer version too), then run \`npm install\`.`;
    }
    state.issue = state.issue && {
      ...state.issue,
      title: group === 'all' ? `Update ${what}` : `Update ${what} (${group})`,
      // What the coder gets if the tests break after the bump (the code step's one bounded attempt).
      body: [
        'The dependency updates below were applied to package.json and the lock file, and the tests may now fail.',
        'Make the smallest change to the code (not to the versions) so the tests pass with the new versions.',
        'Do not revert or pin the updated packages, and do not disable or delete tests.',
        '',
        table,
      ].join('\n'),
    };
    return conflict ? { goto: 'publish' } : undefined;
  },
};

/**
 * Runs npm in a sandbox of its own on the same workspace, whose network reaches only the registry
 * (an egress proxy admitting `registryAllowEntry(registry)`; the `process` backend has no network
 * isolation). A lock file present is updated; node_modules is installed only when .gitignore keeps
 * it out of the commit (else `--package-lock-only`). No lock file and no ignore: nothing to run.
 */
async function applyWithNpm(
  ctx: RunContext,
  registry: string,
): Promise<{ command: string; output: string } | undefined> {
  const { state, services, repoConfig } = ctx;
  const dir = state.workspace!.dir;
  const hasLock =
    (await readFile(join(dir, 'package-lock.json'), 'utf8').catch(() => undefined)) !== undefined;
  const gitignore = (await readFile(join(dir, '.gitignore'), 'utf8').catch(() => '')) ?? '';
  const modulesIgnored = /^\/?node_modules\/?\s*$/m.test(gitignore);
  if (!hasLock && !modulesIgnored) {
    state.note =
      'No package-lock.json and node_modules is not in .gitignore: only package.json was changed, and the tests ran without installing.';
    return;
  }
  const command = [
    'npm install --no-audit --no-fund --loglevel=error',
    `--registry=${shellQuote(`${withoutCredentials(registry)}/`)}`,
    hasLock ? '' : '--no-package-lock',
    modulesIgnored ? '' : '--package-lock-only',
  ]
    .filter(Boolean)
    .join(' ');
  const sandbox = await services.sandboxes.acquire({
    runId: ctx.runId,
    image: repoConfig.image,
    workspaceDir: dir,
    networkAllowlist: [registryAllowEntry(registry)],
    signal: ctx.signal,
  });
  try {
    const result = await sandbox.exec(command, { signal: ctx.signal });
    await ctx.sink.emit({
      type: 'install',
      command,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.exitCode !== 0 && !result.timedOut && /\bERESOLVE\b/.test(output))
      return { command, output: withoutLogPaths(output) };
    if (result.exitCode !== 0) {
      const why = result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`;
      const tail = output.trim().slice(-800).replace(/`{3,}/g, '`‵`');
      throw new StepFailedError(
        'dependency-update',
        `\`${command}\` ${why} while applying the updates${tail ? `:\n\n\`\`\`\n${tail}\n\`\`\`` : ''}`,
        false,
      );
    }
    return undefined;
  } finally {
    await sandbox.release();
  }
}

/** npm's output without the lines pointing at its log files, which stay in the sandbox. Pure. */
export function withoutLogPaths(output: string): string {
  return output
    .split('\n')
    .filter((line) => !/_logs\/|^npm (?:error|ERR!) For a full report see:?$/.test(line.trim()))
    .join('\n')
    .trim();
}

/**
 * The registry URL without user and password: credentials in `DROIDWORKS_NPM_REGISTRY` serve the
 * worker's own metadata requests and never enter a sandbox, a command line or the ledger. Pure.
 */
export function withoutCredentials(registry: string): string {
  const url = new URL(registry);
  url.username = '';
  url.password = '';
  return url.toString().replace(/\/+$/, '');
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
