/** Records the forge keeps in memory. Serialised to GitHub's JSON shapes by `serialize-*.ts`. */

/** Collaborator roles, weakest first (GitHub's `role_name`). */
export const ROLES = ['read', 'triage', 'write', 'maintain', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ForgeUser {
  readonly id: number;
  readonly login: string;
  readonly type: 'User' | 'Bot' | 'Organization';
  name: string | null;
  email: string | null;
  readonly createdAt: string;
}

export interface ForgeLabel {
  readonly id: number;
  readonly name: string;
  color: string;
  description: string | null;
}

export const REACTIONS = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'] as const;
export type ReactionContent = (typeof REACTIONS)[number];

export interface ForgeReaction {
  readonly id: number;
  readonly content: ReactionContent;
  readonly user: ForgeUser;
  readonly createdAt: string;
}

export interface ForgeRepo {
  readonly id: number;
  readonly owner: ForgeUser;
  readonly name: string;
  readonly private: boolean;
  defaultBranch: string;
  description: string | null;
  /** login (lower case) → role; the owner is always admin. */
  readonly collaborators: Map<string, Role>;
  /** lower-case name → label */
  readonly labels: Map<string, ForgeLabel>;
  /** Issues and pull requests share one number sequence, as on GitHub. */
  readonly issues: Map<number, ForgeIssue>;
  readonly comments: Map<number, ForgeComment>;
  readonly checkRuns: ForgeCheckRun[];
  readonly statuses: ForgeStatus[];
  readonly deployments: ForgeDeployment[];
  nextNumber: number;
  readonly createdAt: string;
  pushedAt: string;
}

export interface ForgeIssue {
  readonly id: number;
  readonly number: number;
  title: string;
  body: string | null;
  readonly user: ForgeUser;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  /** label names in the order they were added */
  labels: string[];
  readonly reactions: ForgeReaction[];
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: ForgeUser | null;
  /** Set when this issue is a pull request. */
  readonly pull?: ForgePull;
}

export interface ForgePull {
  readonly id: number;
  readonly headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: ForgeUser | null;
  mergeCommitSha: string | null;
  maintainerCanModify: boolean;
  readonly reviews: ForgeReview[];
}

export interface ForgeReview {
  readonly id: number;
  readonly user: ForgeUser;
  readonly body: string;
  readonly state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
  readonly commitId: string;
  readonly submittedAt: string;
}

export interface ForgeComment {
  readonly id: number;
  readonly issueNumber: number;
  body: string;
  readonly user: ForgeUser;
  readonly viaApp: boolean;
  readonly reactions: ForgeReaction[];
  readonly createdAt: string;
  updatedAt: string;
}

export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export type CheckConclusion =
  'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';

export interface ForgeCheckRun {
  readonly id: number;
  name: string;
  readonly headSha: string;
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  detailsUrl: string | null;
  externalId: string | null;
  startedAt: string;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  readonly appId: number | null;
}

export type StatusState = 'error' | 'failure' | 'pending' | 'success';

export interface ForgeStatus {
  readonly id: number;
  readonly sha: string;
  readonly state: StatusState;
  readonly context: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  readonly creator: ForgeUser;
  readonly createdAt: string;
}

export type DeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface ForgeDeployment {
  readonly id: number;
  readonly sha: string;
  readonly ref: string;
  readonly task: string;
  readonly payload: unknown;
  readonly environment: string;
  readonly description: string | null;
  readonly transient: boolean;
  readonly production: boolean;
  readonly creator: ForgeUser;
  readonly createdAt: string;
  updatedAt: string;
  readonly statuses: ForgeDeploymentStatus[];
}

export interface ForgeDeploymentStatus {
  readonly id: number;
  readonly state: DeploymentState;
  readonly description: string;
  readonly environment: string;
  readonly environmentUrl: string;
  readonly logUrl: string;
  readonly creator: ForgeUser;
  readonly createdAt: string;
}

/** The one GitHub App the forge hosts (when configured). */
export interface ForgeApp {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly publicKeyPem: string;
  /** The `<slug>[bot]` user that acts for every installation. */
  readonly bot: ForgeUser;
  readonly owner: ForgeUser;
  readonly createdAt: string;
}

export interface ForgeInstallation {
  readonly id: number;
  readonly account: ForgeUser;
  readonly createdAt: string;
}

/** Who a request or a test action acts as. */
export interface Actor {
  readonly user: ForgeUser;
  /** Set when the actor is an App installation (its bot user acts). */
  readonly installation?: ForgeInstallation;
}

export interface HookDelivery {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly action: string | null;
  readonly installationId: number | null;
  readonly repositoryId: number | null;
  /** The exact bytes that were signed and sent. */
  readonly body: string;
  readonly redelivery: boolean;
  deliveredAt: string;
  /** 0 until answered, or when the connection failed. */
  statusCode: number;
  status: string;
  duration: number;
}
