import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { GitHubApiError, GitHubAuthError } from '../github/errors.js';
import {
  SandboxError,
  SandboxImageMissingError,
  SandboxUnsupportedError,
  ServiceHealthError,
} from '../sandbox/errors.js';
import { decideRunEnd, type RunEndInput } from './end-run.js';
import { describeFailure, isRetryable } from './run-failure.js';
import { StepFailedError, UnknownStepError } from './run-steps.js';

const gh502 = new GitHubApiError('GET /repos/o/r failed with 502', {
  status: 502,
  method: 'GET',
  route: '/repos/{owner}/{repo}',
});
const gh404 = new GitHubApiError('not found', { status: 404, method: 'GET', route: '/repos/{owner}/{repo}' });
const first = { number: 1, max: 3 };
const last = { number: 3, max: 3 };

describe('decideRunEnd', () => {
  it.each<[string, RunEndInput, ReturnType<typeof decideRunEnd>]>([
    [
      'steps all done',
      { aborted: false, attempt: first, status: 'running' },
      { action: 'end', status: 'succeeded' },
    ],
    [
      'report found failing tests',
      { aborted: false, attempt: first, status: 'failed' },
      { action: 'end', status: 'failed' },
    ],
    [
      'cancelled',
      { aborted: true, attempt: first, status: 'running', failure: { error: new Error('x') } },
      { action: 'end', status: 'cancelled' },
    ],
    [
      'a transient GitHub 502 with attempts left',
      { aborted: false, attempt: first, status: 'running', failure: { error: gh502 } },
      { action: 'retry' },
    ],
    [
      'a transient GitHub 502 on the last attempt',
      { aborted: false, attempt: last, status: 'running', failure: { error: gh502 } },
      { action: 'end', status: 'failed' },
    ],
    [
      'an unknown error with attempts left',
      { aborted: false, attempt: first, status: 'running', failure: { error: new Error('boom') } },
      { action: 'retry' },
    ],
    [
      'a configuration error',
      { aborted: false, attempt: first, status: 'running', failure: { error: new ConfigError([]) } },
      { action: 'end', status: 'failed' },
    ],
    [
      'an unknown step',
      { aborted: false, attempt: first, status: 'running', failure: { error: new UnknownStepError('gate') } },
      { action: 'end', status: 'failed' },
    ],
    [
      'a missing image inside a sandbox error',
      {
        aborted: false,
        attempt: first,
        status: 'running',
        failure: {
          error: new SandboxError('acquire', 'r', { cause: new SandboxImageMissingError('img:1') }),
        },
      },
      { action: 'end', status: 'failed' },
    ],
    [
      'an unsupported sandbox option',
      {
        aborted: false,
        attempt: first,
        status: 'running',
        failure: { error: new SandboxUnsupportedError('docker', 'networkAllowlist') },
      },
      { action: 'end', status: 'failed' },
    ],
    [
      'a step that says retrying cannot help',
      {
        aborted: false,
        attempt: first,
        status: 'running',
        failure: { error: new StepFailedError('checkout', 'install failed') },
      },
      { action: 'end', status: 'failed' },
    ],
    [
      'a step that says retrying may help',
      {
        aborted: false,
        attempt: first,
        status: 'running',
        failure: { error: new StepFailedError('x', 'y', true) },
      },
      { action: 'retry' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decideRunEnd(input)).toEqual(expected);
  });
});

describe('isRetryable', () => {
  it.each<[string, unknown, boolean]>([
    ['plain error', new Error('x'), true],
    ['GitHub 502', gh502, true],
    ['GitHub 404', gh404, false],
    ['GitHub credentials', new GitHubAuthError('no installation'), false],
    [
      'a 502 wrapped in a retryable step failure',
      new StepFailedError('s', 'm', true, { cause: gh502 }),
      true,
    ],
    [
      'a plain error whose cause is a config error',
      new Error('outer', { cause: new ConfigError([]) }),
      false,
    ],
    ['service health', new ServiceHealthError('r', 'db', 'down'), true],
    ['a string', 'boom', true],
  ])('%s', (_name, err, expected) => {
    expect(isRetryable(err)).toBe(expected);
  });
});

describe('describeFailure', () => {
  it.each<[string, unknown, RegExp]>([
    [
      'the innermost Docker cause, introduced in plain words',
      new SandboxError('acquire', 'run-1', {
        cause: new Error('(HTTP code 400) invalid characters for a local volume name, use absolute path'),
      }),
      /^Docker refused to create the sandbox container: \(HTTP code 400\) invalid characters .*absolute path$/,
    ],
    [
      'a missing image names the image and doctor',
      new SandboxError('acquire', 'run-1', { cause: new SandboxImageMissingError('droidworks/runner:nope') }),
      /^the runner image droidworks\/runner:nope is missing: run `droidworks doctor`/,
    ],
    [
      'an unknown wrapper shows its cause',
      new Error('checkout failed', { cause: new Error('disk full') }),
      /^checkout failed: disk full$/,
    ],
    [
      'no repetition when the outer message includes the cause',
      new Error('a: b', { cause: new Error('b') }),
      /^a: b$/,
    ],
    ['GitHub status and route', gh502, /^GitHub answered 502 to GET \/repos\/\{owner\}\/\{repo\}/],
  ])('%s', (_name, err, expected) => {
    expect(describeFailure(err)).toMatch(expected);
  });

  it('redacts secrets and bounds the text', () => {
    const text = describeFailure(new Error(`token s3cr3t-value leaked ${'x'.repeat(5000)}`), [
      's3cr3t-value',
    ]);
    expect(text).not.toContain('s3cr3t-value');
    expect(text).toContain('[redacted]');
    expect(text.length).toBeLessThanOrEqual(1501);
  });
});
