/** One rerun of the test command. */
export interface TestRerun {
  readonly passed: boolean;
  readonly failedTests: readonly string[];
  readonly output: string;
}

/** A test that both passed and failed across the reruns. */
export interface FlakyTest {
  readonly name: string;
  readonly failures: number;
  readonly runs: number;
  /** Output of the last rerun it failed in (capped). */
  readonly lastFailure: string;
}

export const FLAKY_LABEL = 'droid:flaky';
export const FLAKY_MARKER = '<!-- droidworks:flaky-tests -->';

/**
 * Tests that failed in some reruns and not in others. A test failing in every rerun is broken, not
 * flaky; a rerun whose failures could not be named (no parseable test names) tells nothing. Pure.
 */
export function findFlaky(reruns: readonly TestRerun[], outputCap = 3000): FlakyTest[] {
  const informative = reruns.filter((r) => r.passed || r.failedTests.length > 0);
  const failures = new Map<string, { count: number; last: string }>();
  for (const r of informative)
    for (const name of r.failedTests)
      failures.set(name, { count: (failures.get(name)?.count ?? 0) + 1, last: r.output.slice(-outputCap) });
  return [...failures]
    .filter(([, f]) => f.count < informative.length)
    .map(([name, f]) => ({ name, failures: f.count, runs: informative.length, lastFailure: f.last }))
    .sort((a, b) => b.failures - a.failures || a.name.localeCompare(b.name));
}

/** The `droid:flaky` issue's body. Pure. */
export function renderFlaky(o: {
  readonly flaky: readonly FlakyTest[];
  readonly command: string;
  readonly runs: number;
  readonly runId: string;
  readonly at: string;
}): string {
  const rows = o.flaky.map(
    (t) =>
      `| \`${t.name.replace(/\|/g, '\\|')}\` | ${t.failures}/${t.runs} (${Math.round((100 * t.failures) / t.runs)}%) |`,
  );
  const details = o.flaky.map(
    (t) =>
      `<details><summary>Last failure of <code>${t.name.replace(/</g, '&lt;')}</code></summary>\n\n\`\`\`\n${t.lastFailure.replace(/```/g, "'''")}\n\`\`\`\n</details>`,
  );
  return [
    FLAKY_MARKER,
    `The default branch's tests ran ${o.runs} times (\`${o.command}\`) on ${o.at} (run \`${o.runId}\`).`,
    o.flaky.length
      ? ['| test | failure rate |', '| --- | --- |', ...rows].join('\n')
      : 'No flaky test in the latest run: every test either always passed or always failed.',
    ...details,
  ].join('\n\n');
}
