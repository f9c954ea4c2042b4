/** Every state a run can be in, as stored in the ledger's state hash and shown everywhere. */
export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting_approval',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The states a run ends in; the ledger never leaves them. */
export type FinalRunStatus = Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>;

const FINAL: ReadonlySet<string> = new Set<FinalRunStatus>(['succeeded', 'failed', 'cancelled']);

export function isFinalStatus(status: string | undefined): status is FinalRunStatus {
  return status !== undefined && FINAL.has(status);
}
