import { parseFailedTests } from './parse-failed-tests.js';
import { parsePassedTests } from './parse-passed-tests.js';
import type { CommandExecutor } from './types.js';

export interface TestReport {
  /** Exit code of the test command (of `install` when that failed). */
  readonly exitCode: number;
  readonly durationMs: number;
  readonly passed: boolean;
  /** Failing tests' names where the output format allows parsing them; may be empty on failure. */
  readonly failedTests: string[];
  /** Passing tests' names where the output format allows parsing them. */
  readonly passedTests: string[];
  /** Combined, capped output of install and test. */
  readonly output: string;
  readonly timedOut: boolean;
  /** `install` failed, so the tests did not run. */
  readonly installFailed: boolean;
}

export interface RunTestsOptions {
  readonly install?: string | undefined;
  readonly test: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Runs the install then the test command in the sandbox and returns a structured report. */
export async function runTests(sandbox: CommandExecutor, options: RunTestsOptions): Promise<TestReport> {
  const started = performance.now();
  const base = { timeoutMs: options.timeoutMs, signal: options.signal };
  let output = '';
  if (options.install) {
    const r = await sandbox.exec(options.install, base);
    output += joinStreams(r.stdout, r.stderr);
    if (r.exitCode !== 0)
      return {
        exitCode: r.exitCode,
        durationMs: performance.now() - started,
        passed: false,
        failedTests: [],
        passedTests: [],
        output,
        timedOut: r.timedOut,
        installFailed: true,
      };
  }
  const r = await sandbox.exec(options.test, base);
  const testOutput = joinStreams(r.stdout, r.stderr);
  output += testOutput;
  return {
    exitCode: r.exitCode,
    durationMs: performance.now() - started,
    passed: r.exitCode === 0 && !r.timedOut,
    failedTests: r.exitCode === 0 ? [] : parseFailedTests(testOutput),
    passedTests: parsePassedTests(testOutput),
    output,
    timedOut: r.timedOut,
    installFailed: false,
  };
}

function joinStreams(stdout: string, stderr: string): string {
  if (!stderr) return stdout;
  if (!stdout) return stderr;
  return `${stdout}${stdout.endsWith('\n') ? '' : '\n'}${stderr}`;
}
