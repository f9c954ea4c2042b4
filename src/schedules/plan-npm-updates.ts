import { fetchNpmMetadata } from './npm-registry-client.js';
import {
  planDependencyUpdates,
  type DependencyUpdate,
  type UpdatePolicy,
} from './plan-dependency-updates.js';

/** The package.json sections dependency-update reads and bumps. */
export const NPM_SECTIONS = ['dependencies', 'devDependencies'] as const;

/** The dependencies of a package.json text (both sections), or undefined when it is not JSON. Pure. */
export function manifestDependencies(text: string): Record<string, string> | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (typeof manifest !== 'object' || manifest === null) return undefined;
  const deps: Record<string, string> = {};
  for (const section of NPM_SECTIONS) {
    const list = (manifest as Record<string, unknown>)[section];
    if (typeof list !== 'object' || list === null) continue;
    for (const [name, range] of Object.entries(list)) if (typeof range === 'string') deps[name] = range;
  }
  return deps;
}

/**
 * Every update the policy allows for a package.json, grouped (`group` on each update): the
 * registry is asked once per dependency. Used by the run (to apply one group) and by the tick (to
 * start one run per group).
 */
export async function planNpmUpdates(o: {
  readonly packageJson: string;
  readonly registry: string;
  readonly pins?: Readonly<Record<string, string>>;
  readonly policy: UpdatePolicy;
  readonly signal?: AbortSignal;
}): Promise<DependencyUpdate[]> {
  const deps = manifestDependencies(o.packageJson) ?? {};
  const names = Object.keys(deps).filter((n) => !o.policy.ignore.includes(n));
  const metadata = await fetchNpmMetadata({
    registry: o.registry,
    names,
    pins: o.pins,
    signal: o.signal,
  });
  return planDependencyUpdates(deps, metadata, o.policy);
}
