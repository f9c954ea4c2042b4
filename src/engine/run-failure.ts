import { ZodError } from 'zod';
import { PathEscapeError } from '../agent/resolve-path.js';
import { ConfigError } from '../config/config-error.js';
import { GitHubApiError, GitHubAuthError } from '../github/errors.js';
import { ModelError } from '../models/types.js';
import {
  SandboxError,
  SandboxImageMissingError,
  SandboxUnsupportedError,
  ServiceHealthError,
} from '../sandbox/errors.js';
import { redact } from '../util/redact.js';
import { GitError, PushRejectedError } from '../workspace/errors.js';
import { StepFailedError, UnknownStepError } from './run-steps.js';

/** Longest failure text a progress comment or log line carries. */
export const MAX_FAILURE_TEXT = 1500;

/** The error and each of its causes, outermost first (cycles and absurd depths cut). */
export function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && chain.length < 20 && !chain.includes(current)) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/**
 * Whether another attempt of the run may succeed. The first error in the cause chain (outermost
 * first) whose class says so decides; an error no class knows is retryable. Never reads message
 * text. Pure.
 */
export function isRetryable(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const verdict = verdictOf(e);
    if (verdict !== undefined) return verdict;
  }
  return true;
}

function verdictOf(e: unknown): boolean | undefined {
  if (e instanceof StepFailedError) return e.retryable;
  if (
    e instanceof ConfigError ||
    e instanceof UnknownStepError ||
    e instanceof SandboxUnsupportedError ||
    e instanceof SandboxImageMissingError ||
    e instanceof GitHubAuthError ||
    e instanceof PathEscapeError ||
    e instanceof ZodError
  )
    return false;
  if (e instanceof GitHubApiError) return e.isTransient;
  if (e instanceof ModelError) return e.isOutage;
  return undefined;
}

/**
 * What went wrong, in words a user can act on: the innermost cause, introduced by what droidworks
 * was doing when it happened, redacted and bounded. Used for the progress comment and the log. Pure.
 */
export function describeFailure(err: unknown, secrets: readonly string[] = []): string {
  const chain = causeChain(err);
  const innermost = chain[chain.length - 1];
  const inner = messageOf(innermost);
  let text: string | undefined;
  for (const e of chain) {
    text = plainWords(e, inner);
    if (text !== undefined) break;
  }
  if (text === undefined) {
    const outer = messageOf(err);
    text = chain.length > 1 && !outer.includes(inner) ? `${outer}: ${inner}` : outer;
  }
  const clean = redact(text, secrets).trim();
  return clean.length > MAX_FAILURE_TEXT ? `${clean.slice(0, MAX_FAILURE_TEXT)}…` : clean;
}

/** Words for the errors droidworks knows; undefined for the rest (their message speaks for them). */
function plainWords(e: unknown, inner: string): string | undefined {
  if (e instanceof SandboxImageMissingError)
    return `the runner image ${e.image} is missing: run \`droidworks doctor\` (build it with scripts/build-runner-image.sh)`;
  if (e instanceof SandboxError) {
    const cause = e.cause === undefined ? '' : `: ${inner}`;
    if (e.cause instanceof SandboxImageMissingError || e.cause instanceof ServiceHealthError)
      return undefined;
    return e.operation === 'acquire'
      ? `Docker refused to create the sandbox container${cause}`
      : `Docker failed to ${e.operation} the sandbox${cause}`;
  }
  if (e instanceof ServiceHealthError)
    return `the service ${e.service} did not become healthy${e.lastOutput ? `; its last health check said: ${e.lastOutput.trim().slice(-500)}` : ''}`;
  if (e instanceof GitHubApiError)
    return `GitHub answered ${e.status === 0 ? 'nothing (no response)' : e.status} to ${e.details.method} ${e.details.route}: ${inner}`;
  if (e instanceof PushRejectedError) return e.message;
  if (e instanceof GitError) return `git failed: ${inner}`;
  if (e instanceof ZodError)
    return `invalid data: ${e.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ')}`;
  return undefined;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
