/** What every deployer and rollback hook is told (the webhook body, the workflow inputs). */
export interface DeployRequest {
  readonly action: 'deploy' | 'rollback';
  /** `owner/name` */
  readonly repository: string;
  readonly environment: string;
  /** The SHA being deployed, or restored by a rollback. */
  readonly sha: string;
  /** Deploy: the SHA live before (or null); rollback: the SHA that failed. */
  readonly previousSha: string | null;
  /** The GitHub deployment this call belongs to. */
  readonly deploymentId: number;
  readonly runId: string;
}

/** How a deployer call ended; `output` is already redacted and capped. */
export interface DeployResult {
  readonly ok: boolean;
  /** One line for the progress comment: `HTTP 502`, `exit code 1`, `workflow run failure`. */
  readonly summary: string;
  readonly output?: string;
  /** Where to read more (a workflow run's page). */
  readonly url?: string;
}

/** Runs one deploy or rollback; never throws for a failed deploy (that is a result), only on abort. */
export type Deployer = (request: DeployRequest, signal: AbortSignal) => Promise<DeployResult>;
