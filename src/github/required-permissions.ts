import type { GitHubHost } from './types.js';

/** A GitHub App permission level; `write` includes `read`. */
export type PermissionLevel = 'read' | 'write';

/** Permissions (GitHub's names: `issues`, `pull_requests` …) one thing needs, with the level. */
export type PermissionNeeds = Readonly<Record<string, PermissionLevel>>;

/**
 * What every {@link GitHubHost} operation needs of the App's installation, from GitHub's
 * "Permissions required for GitHub Apps" reference. Keyed by the port itself, so a new operation
 * does not type-check until someone says what it needs; `{}` marks calls made with the App's own
 * JWT (no installation permission). The App manifest must request the union of these and of
 * {@link EVENT_PERMISSIONS}, and nothing more.
 */
export const OPERATION_PERMISSIONS = {
  getRepo: { metadata: 'read' },
  getPermission: { metadata: 'read' },
  getIssue: { issues: 'read' },
  listComments: { issues: 'read' },
  createComment: { issues: 'write' },
  updateComment: { issues: 'write' },
  findCommentByMarker: { issues: 'read' },
  upsertComment: { issues: 'write' },
  addReaction: { issues: 'write' },
  addLabels: { issues: 'write' },
  removeLabel: { issues: 'write' },
  getFileAtDefaultBranch: { contents: 'read' },
  getDefaultBranchSha: { contents: 'read' },
  getFileAt: { contents: 'read' },
  listDirectory: { contents: 'read' },
  getPullRequest: { pull_requests: 'read' },
  findPullRequestByHead: { pull_requests: 'read' },
  createPullRequest: { pull_requests: 'write' },
  updatePullRequest: { pull_requests: 'write' },
  upsertPullRequest: { pull_requests: 'write' },
  createCheckRun: { checks: 'write' },
  updateCheckRun: { checks: 'write' },
  getCombinedStatusAndChecks: { statuses: 'read', checks: 'read' },
  createDeployment: { deployments: 'write' },
  createDeploymentStatus: { deployments: 'write' },
  listDeployments: { deployments: 'read' },
  // The token is what git on the host clones and pushes the droid's branch with.
  getGitToken: { contents: 'write' },
  getAuthenticatedLogin: {},
  listFailedHookDeliveries: {},
  redeliver: {},
  // `droidworks eval mine` reads merged pull requests.
  listMergedPulls: { pull_requests: 'read' },
  // The deploy stage: deployment history, workflow deployers, incident issues.
  listDeploymentStatuses: { deployments: 'read' },
  dispatchWorkflow: { actions: 'write' },
  listWorkflowRuns: { actions: 'read' },
  getWorkflowRun: { actions: 'read' },
  listIssuesWithLabels: { issues: 'read' },
  createIssue: { issues: 'write' },
  // Scheduled maintenance: the dashboard issue, stale droid branches, served repositories.
  findIssueByLabel: { issues: 'read' },
  updateIssue: { issues: 'write' },
  listPullRequests: { pull_requests: 'read' },
  listBranches: { contents: 'read' },
  deleteBranch: { contents: 'write' },
  listInstallationRepos: {},
} as const satisfies Record<keyof GitHubHost, PermissionNeeds>;

/** The permission (at `read`) an App needs to be sent each webhook event. */
/**
 * Events GitHub sends every App about its own installations: a manifest cannot subscribe to them
 * and they need no permission.
 */
export const APP_LIFECYCLE_EVENTS: ReadonlySet<string> = new Set([
  'installation',
  'installation_repositories',
]);

export const EVENT_PERMISSIONS: Readonly<Record<string, string>> = {
  check_run: 'checks',
  check_suite: 'checks',
  deployment: 'deployments',
  deployment_status: 'deployments',
  issue_comment: 'issues',
  issues: 'issues',
  pull_request: 'pull_requests',
  pull_request_review: 'pull_requests',
  pull_request_review_comment: 'pull_requests',
  push: 'contents',
  status: 'statuses',
  workflow_run: 'actions',
};

/** The least permissions covering `needs`: per permission, the highest level any of them asks for. */
export function mergePermissions(needs: Iterable<PermissionNeeds>): Record<string, PermissionLevel> {
  const merged: Record<string, PermissionLevel> = {};
  for (const need of needs)
    for (const [name, level] of Object.entries(need)) if (merged[name] !== 'write') merged[name] = level;
  return merged;
}
