/** One problem with one setting: the variable (or file field), what is wrong, and a valid example. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly example?: string;
}

/** Thrown once with every configuration problem found; the CLI prints it without a stack trace. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly source = 'environment',
  ) {
    super(formatProblems(problems, source));
  }
}

export function formatProblems(problems: readonly ConfigProblem[], source: string): string {
  const lines = problems.map(
    (p) => `  - ${p.path}: ${p.message}${p.example ? ` (for example ${p.path}=${p.example})` : ''}`,
  );
  return `Invalid configuration in ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}
