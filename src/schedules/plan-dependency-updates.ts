import semver from 'semver';

/** What the registry says about one package (`GET <registry>/<name>`, the parts used). */
export interface PackageMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  /** The package's home page, when the registry has one. */
  readonly homepage?: string;
  /** The package's source repository (`repository.url`, e.g. `git+https://github.com/o/r.git`). */
  readonly repository?: string;
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
  /** Where the release notes are: {@link releaseNotesUrl}. */
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
    const notes = releaseNotesUrl(meta);
    out.push({
      name,
      from: range,
      to: `${prefix}${best}`,
      fromVersion: current.version,
      toVersion: best,
      type,
      group: groupSlug(
        policy.group === 'all'
          ? 'all'
          : policy.group === 'none'
            ? name.replace(/[@/]/g, '-').replace(/^-/, '')
            : (/^(@[^/]+)\//.exec(name)?.[1]?.slice(1) ?? 'unscoped'),
      ),
      ...(notes ? { notes } : {}),
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

/**
 * Where a package's release notes are: its GitHub repository's releases page when the registry
 * names a GitHub repository (`git+https://github.com/o/r.git`, `github:o/r`, `o/r`), else its home
 * page; undefined when the registry has neither. Pure.
 */
export function releaseNotesUrl(meta: Pick<PackageMetadata, 'homepage' | 'repository'>): string | undefined {
  const repo = meta.repository?.trim();
  if (repo) {
    const gh =
      /^(?:git\+)?(?:https?|git|ssh):\/\/(?:[^@/]+@)?github\.com[/:]([^/]+)\/([^/#]+?)(?:\.git)?(?:[/#].*)?$/.exec(
        repo,
      ) ??
      /^(?:git@)github\.com:([^/]+)\/([^/#]+?)(?:\.git)?$/.exec(repo) ??
      /^(?:github:)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repo);
    if (gh) return `https://github.com/${gh[1]}/${gh[2]}/releases`;
  }
  const home = meta.homepage?.trim();
  return home && /^https?:\/\//.test(home) ? home : undefined;
}

/** The groups of a plan, in order, each with its updates. Pure. */
export function groupUpdates(updates: readonly DependencyUpdate[]): Map<string, DependencyUpdate[]> {
  const out = new Map<string, DependencyUpdate[]>();
  for (const u of updates) out.set(u.group, [...(out.get(u.group) ?? []), u]);
  return out;
}

/** A group name fit for a branch (`droid/maintenance/dependency-update-<group>`) and a job. Pure. */
function groupSlug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/\.{2,}/g, '.')
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'unnamed'
  );
}
