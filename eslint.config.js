import tseslint from 'typescript-eslint';

/*
 * Folder boundaries (see ARCHITECTURE.md, "Folder boundaries hold by lint"). An import is restricted
 * by the folder it reaches: `../engine/x.js` from `src/models/` is `engine`. Tests (`*.test.ts`,
 * `test/`), `bench/` and `scripts/` may import anything.
 */
const reaches = (folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;
const rule = (regex, message) => ({ regex, message });
/** The local forge is the demo's (`src/demo/forge`): the rule matches any `forge/` path. */
const FORGE = rule(
  '(^|/)forge(/|$)',
  "the local forge is the demo's: only demo/ and cli/ (and tests) import it",
);
const ENGINE = rule(
  reaches(['engine']),
  'adapters do not import the engine: pass what they need in, or move a shared type to the folder that owns it',
);
/** Product code never imports the demo (which includes the forge). */
const DEMO = rule(reaches(['demo']), 'product code does not import demo/: only cli/ wires the demo');
const boundaries = {
  // Adapters own one outside system each and know nothing of runs.
  'src/{github,models,sandbox,workspace,queue,deploy,ledger,config,util}': [ENGINE, DEMO, FORGE],
  // The gateway receives webhooks: no engine, agent or sandbox in its process.
  'src/gateway': [
    ENGINE,
    rule(reaches(['agent', 'sandbox']), 'the gateway does not run workflows: no agent or sandbox here'),
    DEMO,
    FORGE,
  ],
  'src/agent': [ENGINE, DEMO, FORGE],
  'src/{engine,steps,schedules,workflows,eval,telemetry}': [DEMO, FORGE],
  // The demo is wired like the product, but the CLI starts it, never the other way round.
  'src/demo': [rule(reaches(['cli']), 'demo/ does not import cli/: the CLI wires and starts the demo')],
};
const restricted = Object.entries(boundaries).map(([folders, patterns]) => ({
  files: [`${folders}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: { 'no-restricted-imports': ['error', { patterns }] },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.droidworks/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['src/cli/**', 'bench/**', 'scripts/**', 'test/**'], rules: { 'no-console': 'off' } },
  ...restricted,
);
