import semver from 'semver';

/** What the registry says about one package (`GET <registry>/<name>`, the parts used). */
export interface PackageMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  /** Release notes or repository link, when the registry has one. */
  readonly homepage?: string;
  readonly deprecated?: readonly string[];
}

/** One proposed bump. */
export interface DependencyUpdate {
  readonly name: string;
  /** As written in package.json (`^1.2.3`). */
  readonly from: string;
  /** The new range, keeping the original prefix (`^1.3.0`). */
  readonly to: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly type: 'patch' | 'minor' | 'major';
  readonly group: string;
  readonly notes?: string;
}

export interface UpdatePolicy {
  readonly update: 'patch' | 'minor' | 'major';
  readonly ignore: readonly string[];
  readonly group: 'all' | 'none' | 'by-scope';
}

const RANK = { patch: 0, minor: 1, major: 2 } as const;

/**
 * The newest allowed version of each dependency, within the policy (`update` is the highest kind
 * of change proposed; prereleases and ignored packages are left out), grouped as `group` says:
 * `all` (one group), `none` (one per package) or `by-scope` (`@scope`, or `unscoped`). Pure.
 */
export function planDependencyUpdates(
  dependencies: Readonly<Record<string, string>>,
  metadata: ReadonlyMap<string, PackageMetadata>,
  policy: UpdatePolicy,
): DependencyUpdate[] {
  const out: DependencyUpdate[] = [];
  for (const [name, range] of Object.entries(dependencies)) {
    if (policy.ignore.includes(name)) continue;
    const meta = metadata.get(name);
    // Tags, URLs, workspaces and complex ranges are left alone.
    if (!meta || !/^[\^~]?\d+\.\d+\.\d+$/.test(range.trim())) continue;
    const current = semver.minVersion(range);
    if (!current) continue;
    const prefix = /^[\^~]/.exec(range.trim())?.[0] ?? '';
    const candidates = meta.versions
      .filter((v) => semver.valid(v) && !semver.prerelease(v) && semver.gt(v, current.version))
      .filter((v) => {
        const diff = semver.diff(current.version, v);
        const kind =
          diff === 'major' || diff === 'premajor'
            ? 'major'
            : diff === 'minor' || diff === 'preminor'
              ? 'minor'
              : 'patch';
        return RANK[kind] <= RANK[policy.update];
      })
      .sort(semver.rcompare);
    const best = candidates[0];
    if (!best) continue;
    const diff = semver.diff(current.version, best);
    const type = diff === 'major' ? 'major' : diff === 'minor' ? 'minor' : 'patch';
    out.push({
      name,
      from: range,
      to: `${prefix}${best}`,
      fromVersion: current.version,
      toVersion: best,
      type,
      group:
        policy.group === 'all'
          ? 'all'
          : policy.group === 'none'
            ? name.replace(/[@/]/g, '-').replace(/^-/, '')
            : (/^(@[^/]+)\//.exec(name)?.[1]?.slice(1) ?? 'unscoped'),
      ...(meta.homepage ? { notes: meta.homepage } : {}),
    });
  }
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
}

/** The PR's table: package, old → new, type of change, release notes. Pure. */
export function renderUpdateTable(updates: readonly DependencyUpdate[]): string {
  return [
    '| package | update | change | release notes |',
    '| --- | --- | --- | --- |',
    ...updates.map(
      (u) =>
        `| \`${u.name}\` | \`${u.from}\` → \`${u.to}\` | ${u.type} | ${u.notes ? `[notes](${u.notes})` : '—'} |`,
    ),
  ].join('\n');
}
