import { redact } from '../util/redact.js';

/** A GitHub API call that failed after retries (or was not worth retrying). */
export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError';
  constructor(
    message: string,
    readonly details: {
      /** HTTP status; 0 when no response arrived (network error, timeout). */
      readonly status: number;
      readonly method: string;
      /** The route template, e.g. `/repos/{owner}/{repo}/issues/{issue_number}` (never holds a token). */
      readonly route: string;
      readonly requestId?: string;
      /** The server's `retry-after` when it asked to wait longer than the retry policy allows. */
      readonly retryAfterMs?: number;
      readonly timedOut?: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super(redact(message), options);
  }

  get status(): number {
    return this.details.status;
  }

  /** Whether trying again later may help (5xx, rate limits, timeouts). */
  get isTransient(): boolean {
    const s = this.details.status;
    return s === 0 || s >= 500 || s === 429 || this.details.retryAfterMs !== undefined;
  }
}

/** The call was cancelled through its AbortSignal. */
export class GitHubAbortedError extends Error {
  override readonly name = 'GitHubAbortedError';
  constructor(
    readonly route: string,
    options?: { cause?: unknown },
  ) {
    super(`GitHub request ${route} was cancelled`, options);
  }
}

/** The configured credentials cannot do what was asked (no auth, no App installation, token-only feature). */
export class GitHubAuthError extends Error {
  override readonly name = 'GitHubAuthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
  }
}
