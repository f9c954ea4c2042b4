import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { DEFAULT_REPO_CONFIG, parseRepoConfig } from './repo-config.js';
import { formatPath } from './schema-problems.js';

/** Runs the parser and returns the problems it threw (fails the test if it did not throw). */
function problemsOf(text: string): Array<{ path: string; message: string }> {
  let error: unknown;
  try {
    parseRepoConfig(text);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems.map(({ path, message }) => ({ path, message }));
}

const FULL = `
image: node:22-bookworm
install: npm ci
test:
  - npm run lint
  - npm test
services:
  - name: db
    image: postgres:16
    env:
      POSTGRES_PASSWORD: secret
      POSTGRES_PORT: 5432
    command: [postgres, -c, fsync=off]
    health: pg_isready -U postgres
network:
  allow: [registry.npmjs.org, "*.pypi.org", "proxy.internal:3128"]
instructions: |
  Use pnpm-style imports.
models:
  coder: [anthropic:claude-sonnet-4-6, openai:gpt-5.1]
  reviewer: openai:gpt-5.1
budgets: { maxSteps: 80, maxTokens: 3000000, maxCostUsd: 2.5, maxMinutes: 45 }
testRounds: 5
planApproval: true
approvalTimeoutMinutes: 60
onTestsFailing: none
labels: { done: shipped, failed: needs-human }
deploy:
  requireChecks: [ci/build]
  environments:
    - name: staging
      url: https://staging.example.com
      deployer: { webhook: { url: https://deploy.example.com/hook, secret: DEPLOY_HOOK } }
      health: { url: https://staging.example.com/healthz }
    - name: production
      deployer: { command: ./deploy.sh }
      requireApproval: true
`;

describe('parseRepoConfig', () => {
  it('parses a full file and normalizes it', () => {
    expect(parseRepoConfig(FULL)).toEqual({
      image: 'node:22-bookworm',
      install: ['npm ci'],
      test: ['npm run lint', 'npm test'],
      services: [
        {
          name: 'db',
          image: 'postgres:16',
          env: { POSTGRES_PASSWORD: 'secret', POSTGRES_PORT: '5432' },
          command: ['postgres', '-c', 'fsync=off'],
          health: 'pg_isready -U postgres',
        },
      ],
      network: { allow: ['registry.npmjs.org', '*.pypi.org', 'proxy.internal:3128'] },
      instructions: 'Use pnpm-style imports.\n',
      models: {
        coder: [
          { provider: 'anthropic', model: 'claude-sonnet-4-6' },
          { provider: 'openai', model: 'gpt-5.1' },
        ],
        reviewer: [{ provider: 'openai', model: 'gpt-5.1' }],
      },
      budgets: { maxSteps: 80, maxTokens: 3_000_000, maxCostUsd: 2.5, maxMinutes: 45 },
      testRounds: 5,
      planApproval: true,
      approvalTimeoutMinutes: 60,
      onTestsFailing: 'none',
      labels: { done: 'shipped', failed: 'needs-human' },
      maintenance: { maxCostUsdPerMonth: 20 },
      limits: { openPrs: 5, prsPerDay: 2 },
      deploy: {
        on: 'merge',
        requireChecks: ['ci/build'],
        gateTimeoutMinutes: 60,
        environments: [
          {
            name: 'staging',
            url: 'https://staging.example.com',
            deployer: {
              webhook: { url: 'https://deploy.example.com/hook', secret: 'DEPLOY_HOOK', timeoutSec: 300 },
            },
            health: {
              url: 'https://staging.example.com/healthz',
              expectStatus: 200,
              intervalSec: 2,
              successes: 3,
              failures: 3,
              timeoutSec: 120,
            },
            requireApproval: false,
            soakSec: 0,
            autoRollback: true,
            production: false,
          },
          {
            name: 'production',
            deployer: { command: { run: './deploy.sh', secrets: [], timeoutSec: 600 } },
            requireApproval: true,
            soakSec: 0,
            autoRollback: true,
            production: false,
          },
        ],
      },
    });
  });

  it.each([
    ['an empty file', ''],
    ['a comment only', '# nothing here\n'],
    ['an empty mapping', '{}'],
  ])('gives every default for %s', (_name, text) => {
    expect(parseRepoConfig(text)).toEqual({
      install: [],
      test: [],
      services: [],
      network: { allow: [] },
      models: {},
      budgets: {},
      testRounds: 3,
      planApproval: false,
      approvalTimeoutMinutes: 1440,
      onTestsFailing: 'draft',
      labels: { done: 'droid:done', failed: 'droid:failed' },
      maintenance: { maxCostUsdPerMonth: 20 },
      limits: { openPrs: 5, prsPerDay: 2 },
    });
    expect(parseRepoConfig(text)).toEqual(DEFAULT_REPO_CONFIG);
  });

  it('parses maintenance: and limits: with their defaults', () => {
    const config = parseRepoConfig(
      [
        'maintenance:',
        '  dependency-update: { schedule: "0 6 * * 1", timezone: Europe/Berlin, update: minor, ignore: [react], group: all }',
        '  flaky-tests: { schedule: "0 3 * * *", reruns: 5 }',
        '  stale-branches: { schedule: "0 4 * * 0", staleDays: 30, graceDays: 7 }',
        'limits: { openPrs: 5, prsPerDay: 2 }',
      ].join('\n'),
    );
    expect(config.maintenance).toEqual({
      'dependency-update': {
        schedule: '0 6 * * 1',
        timezone: 'Europe/Berlin',
        update: 'minor',
        ignore: ['react'],
        group: 'all',
      },
      'flaky-tests': { schedule: '0 3 * * *', reruns: 5 },
      'stale-branches': { schedule: '0 4 * * 0', staleDays: 30, graceDays: 7 },
      maxCostUsdPerMonth: 20,
    });
    expect(config.limits).toEqual({ openPrs: 5, prsPerDay: 2 });
    expect(
      problemsOf('maintenance:\n  stale-branches: { schedule: x, staleDays: 0 }\nlimits: { openPRs: 3 }'),
    ).toEqual([
      {
        path: 'maintenance.stale-branches.staleDays',
        message: expect.stringMatching(/>=1|at least|too small/i),
      },
      { path: 'limits.openPRs', message: 'unknown field (did you mean "openPrs"?)' },
    ]);
  });

  it('parses a minimal file', () => {
    expect(parseRepoConfig('test: make check')).toMatchObject({ test: ['make check'], testRounds: 3 });
  });

  const broken: Array<[string, string, Array<{ path: string; message: string | RegExp }>]> = [
    [
      'service without image',
      'services:\n  - name: db',
      [{ path: 'services[0].image', message: 'Required' }],
    ],
    [
      'service name not a DNS label',
      'services:\n  - { name: My_DB, image: postgres }',
      [{ path: 'services[0].name', message: /DNS label/ }],
    ],
    [
      'duplicate service names',
      'services:\n  - { name: db, image: a }\n  - { name: db, image: b }',
      [{ path: 'services[1].name', message: 'duplicate service name "db"' }],
    ],
    [
      'bad env key and value',
      'services:\n  - name: db\n    image: p\n    env: { "BAD-KEY": x, OK: [1] }',
      [
        { path: 'services[0].env.BAD-KEY', message: /invalid key/ },
        { path: 'services[0].env.OK', message: 'must be a string, number or boolean' },
      ],
    ],
    [
      'unknown top-level field',
      'tset: npm test',
      [{ path: 'tset', message: 'unknown field (did you mean "test"?)' }],
    ],
    [
      'unknown nested field',
      'budgets: { maxStep: 3 }',
      [{ path: 'budgets.maxStep', message: /did you mean "maxSteps"/ }],
    ],
    [
      'install of the wrong type',
      'install: 42',
      [{ path: 'install', message: /a command or a list of commands/ }],
    ],
    [
      'non-string command in a list',
      'test: [npm test, 7]',
      [{ path: 'test[1]', message: /must be a string/ }],
    ],
    ['empty command', 'test: ["  "]', [{ path: 'test[0]', message: 'must not be empty' }]],
    [
      'budget below range',
      'budgets: { maxSteps: 0 }',
      [{ path: 'budgets.maxSteps', message: 'must be at least 1' }],
    ],
    [
      'budget above range',
      'budgets: { maxMinutes: 5000 }',
      [{ path: 'budgets.maxMinutes', message: 'must be at most 1440' }],
    ],
    ['fractional test rounds', 'testRounds: 2.5', [{ path: 'testRounds', message: /whole number/ }]],
    ['yes is not a boolean', 'planApproval: "yes"', [{ path: 'planApproval', message: /must be a boolean/ }]],
    [
      'unknown onTestsFailing',
      'onTestsFailing: pr',
      [{ path: 'onTestsFailing', message: 'must be one of: draft, none' }],
    ],
    [
      'model without provider',
      'models:\n  coder: [gpt-5.1]',
      [{ path: 'models.coder[0]', message: /provider:model/ }],
    ],
    [
      'unknown model role',
      'models:\n  tester: [openai:gpt-5.1]',
      [{ path: 'models.tester', message: /unknown field/ }],
    ],
    [
      'network host with a path',
      'network: { allow: [ "example.com/x" ] }',
      [{ path: 'network.allow[0]', message: /host name/ }],
    ],
    ['empty label', 'labels: { done: "" }', [{ path: 'labels.done', message: 'must not be empty' }]],
    [
      'deploy environment without name, bad health URL',
      'deploy:\n  environments:\n    - health: { url: "ftp://x" }',
      [
        { path: 'deploy.environments[0].name', message: 'Required' },
        { path: 'deploy.environments[0].deployer', message: 'Required' },
        { path: 'deploy.environments[0].health.url', message: /http\(s\) URL/ },
      ],
    ],
    [
      'two deployers in one environment',
      'deploy:\n  environments:\n    - name: staging\n      deployer: { command: ./d.sh, workflow: { file: d.yml } }',
      [
        {
          path: 'deploy.environments[0].deployer',
          message: /exactly one deployer, not workflow and command/,
        },
      ],
    ],
    ['deploy without environments', 'deploy: {}', [{ path: 'deploy.environments', message: 'Required' }]],
    ['a list at the top', '- image: x', [{ path: '(root)', message: /mapping/ }]],
    ['null section', 'services:', [{ path: 'services', message: /must be a list, not empty/ }]],
    ['YAML syntax error', 'test: [a, b\nimage: x', [{ path: 'line 2, column 1', message: /YAML syntax/ }]],
    ['duplicate key', 'image: a\nimage: b', [{ path: 'line 2, column 1', message: /unique/ }]],
  ];

  it.each(broken)('reports %s', (_name, text, expected) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(expected.length);
    for (const want of expected) {
      expect(problems).toContainEqual({
        path: want.path,
        message: typeof want.message === 'string' ? want.message : expect.stringMatching(want.message),
      });
    }
  });

  it('lists every problem of a file at once', () => {
    const text = [
      'imgae: node:22',
      'test: 5',
      'services:',
      '  - name: db',
      '  - { name: cache, image: redis:7 }',
      '  - { name: cache, image: redis:7 }',
      'budgets: { maxCostUsd: -1 }',
      'onTestsFailing: never',
      'models: { coder: [nope] }',
    ].join('\n');
    expect(problemsOf(text).map((p) => p.path)).toEqual([
      'test',
      'services[0].image',
      'services[2].name',
      'models.coder[0]',
      'budgets.maxCostUsd',
      'onTestsFailing',
      'imgae',
    ]);
  });

  it('names the file in the error and suggests an example', () => {
    expect(() => parseRepoConfig('onTestsFailing: x', 'repo/.droidworks.yml')).toThrow(
      /Invalid configuration in repo\/\.droidworks\.yml \(1 problem\):\n {2}- onTestsFailing: must be one of: draft, none \(for example/,
    );
  });

  it('refuses YAML alias bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefghij'.split('').map((c, i) => {
        const prev = String.fromCharCode(97 + i);
        return `${c}: &${c} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join('\n');
    expect(problemsOf(bomb)[0]?.path).toBe('(root)');
  });
});

describe('formatPath', () => {
  it.each([
    [['services', 0, 'image'], 'services[0].image'],
    [[], '(root)'],
    [['env', 'has space'], 'env["has space"]'],
  ] as const)('%j → %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});
