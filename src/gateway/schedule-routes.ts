import type { Route } from './route-event.js';

type Payload = Record<string, unknown>;

const CONFIG_PATH = /^\.droidworks(\.ya?ml$|\/workflows\/)/;
const DASHBOARD_LABEL = 'droid:dashboard';
const TICKED = /^\s*[-*] \[[xX]\] <!-- droidworks:run-workflow=/m;

/**
 * Routes for scheduled maintenance: served repositories changing (`installation`,
 * `installation_repositories`), a push to the default branch changing `.droidworks.yml` or
 * `.droidworks/workflows/` (re-sync its schedules), and a ticked box on the dashboard issue.
 */
export const SCHEDULE_ROUTES: readonly Route[] = [
  {
    event: 'installation',
    actions: ['created', 'deleted', 'new_permissions_accepted', 'unsuspend', 'suspend'],
    kind: 'sync',
  },
  { event: 'installation_repositories', actions: ['added', 'removed'], kind: 'sync' },
  {
    event: 'push',
    kind: 'sync',
    when: (p) => {
      const branch = str(obj(p.repository).default_branch);
      if (str(p.ref) !== `refs/heads/${branch}`) return 'push is not to the default branch';
      return changedPaths(p).some((f) => CONFIG_PATH.test(f))
        ? undefined
        : 'push changes no droidworks configuration';
    },
    extract: (p) => ({ sha: str(p.after) || undefined }),
  },
  {
    event: 'issues',
    actions: ['edited'],
    kind: 'dashboard',
    when: (p) => {
      const issue = obj(p.issue);
      const labels = Array.isArray(issue.labels) ? issue.labels : [];
      if (!labels.some((l) => str(obj(l).name) === DASHBOARD_LABEL)) return 'not the dashboard issue';
      return TICKED.test(str(issue.body)) ? undefined : 'no box ticked';
    },
    extract: (p) => ({ text: str(obj(p.issue).body).slice(0, 65_536) }),
  },
];

function changedPaths(p: Payload): string[] {
  const commits = Array.isArray(p.commits) ? p.commits : [];
  const paths: string[] = [];
  for (const c of [...commits, p.head_commit]) {
    const commit = obj(c);
    for (const key of ['added', 'modified', 'removed']) {
      const list = commit[key];
      if (Array.isArray(list)) for (const f of list) if (typeof f === 'string') paths.push(f);
    }
  }
  return paths;
}

function obj(value: unknown): Payload {
  return value !== null && typeof value === 'object' ? (value as Payload) : {};
}
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
