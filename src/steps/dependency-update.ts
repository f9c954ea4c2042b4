import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import {
  planDependencyUpdates,
  renderUpdateTable,
  type PackageMetadata,
} from '../schedules/plan-dependency-updates.js';

/**
 * npm: reads package.json in the checkout, asks the registry (`DROIDWORKS_NPM_REGISTRY`) for newer
 * versions within `maintenance.dependency-update` (update, ignore, group), and writes the bumps to
 * package.json; the test and publish steps that follow run the tests and open or refresh the one PR,
 * whose description is the table. Nothing new: the run ends here, with no commit.
 */
export const dependencyUpdate: StepImpl<RunContext> = {
  async run(ctx) {
    const { state, repoConfig, services } = ctx;
    if (!state.workspace) throw new Error('dependency-update needs the checkout step first');
    const policy = repoConfig.maintenance['dependency-update'] ?? {
      update: 'minor' as const,
      ignore: [],
      group: 'all' as const,
    };
    const path = join(state.workspace.dir, 'package.json');
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) {
      state.note = 'No package.json: only npm is supported by dependency-update in this release.';
      return { goto: 'report' };
    }
    const manifest = JSON.parse(text) as Record<string, unknown>;
    const sections = ['dependencies', 'devDependencies'] as const;
    const deps: Record<string, string> = {};
    for (const section of sections) Object.assign(deps, (manifest[section] as Record<string, string>) ?? {});
    const metadata = new Map<string, PackageMetadata>();
    for (const name of Object.keys(deps)) {
      const url = `${services.config.npmRegistry}/${name.replace('/', '%2f')}`;
      let response: Response;
      try {
        response = await fetch(url, { signal: ctx.signal, headers: { accept: 'application/json' } });
      } catch (err) {
        throw new StepFailedError('dependency-update', `the npm registry did not answer for ${name}`, true, {
          cause: err,
        });
      }
      if (response.status === 404) continue;
      if (!response.ok)
        throw new StepFailedError(
          'dependency-update',
          `the npm registry answered ${response.status} for ${name}`,
          true,
        );
      const body = (await response.json()) as { versions?: Record<string, unknown>; homepage?: string };
      metadata.set(name, {
        name,
        versions: Object.keys(body.versions ?? {}),
        ...(typeof body.homepage === 'string' ? { homepage: body.homepage } : {}),
      });
    }
    const updates = planDependencyUpdates(deps, metadata, policy).filter(
      (u) => u.group === 'all' || policy.group !== 'all',
    );
    await ctx.sink.emit({
      type: 'dependency_updates',
      updates: updates.map((u) => `${u.name}@${u.toVersion}`),
    });
    if (updates.length === 0) {
      state.note = 'Every dependency is up to date within the policy; nothing to propose.';
      return { goto: 'report' };
    }
    for (const section of sections) {
      const list = manifest[section] as Record<string, string> | undefined;
      if (!list) continue;
      for (const u of updates) if (list[u.name] !== undefined) list[u.name] = u.to;
    }
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
    state.summary = `Dependency updates (${policy.update} and below):\n\n${renderUpdateTable(updates)}`;
    state.issue = state.issue && {
      ...state.issue,
      title: `Update ${updates.length} npm dependenc${updates.length === 1 ? 'y' : 'ies'}`,
    };
    return undefined;
  },
};
