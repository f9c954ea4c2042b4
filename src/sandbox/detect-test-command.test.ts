import { describe, expect, it } from 'vitest';
import { detectTestCommand } from './detect-test-command.js';

describe('detectTestCommand', () => {
  const cases: Array<
    [string, Array<{ path: string; content: string }>, { test: string; install?: string } | undefined]
  > = [
    [
      '.droidworks.yml wins over package.json',
      [
        { path: '.droidworks.yml', content: 'install: pip install -e .\ntest: pytest -q\n' },
        { path: 'package.json', content: '{"scripts":{"test":"vitest"}}' },
      ],
      { install: 'pip install -e .', test: 'pytest -q' },
    ],
    [
      '.droidworks.yml lists are joined',
      [{ path: '.droidworks.yml', content: 'test:\n  - make lint\n  - make check\n' }],
      { test: 'make lint && make check' },
    ],
    [
      'package.json scripts.test',
      [{ path: 'package.json', content: '{"scripts":{"test":"node --test"}}' }],
      { test: 'npm test', install: 'npm ci || npm install' },
    ],
    [
      'npm placeholder is no test',
      [
        {
          path: 'package.json',
          content: '{"scripts":{"test":"echo \\"Error: no test specified\\" && exit 1"}}',
        },
      ],
      undefined,
    ],
    ['pyproject.toml', [{ path: 'pyproject.toml', content: '[project]\nname="x"' }], { test: 'pytest' }],
    ['pytest.ini', [{ path: 'pytest.ini', content: '[pytest]' }], { test: 'pytest' }],
    ['go.mod', [{ path: 'go.mod', content: 'module x' }], { test: 'go test ./...' }],
    ['Cargo.toml', [{ path: 'Cargo.toml', content: '[package]' }], { test: 'cargo test' }],
    [
      'Makefile with test target',
      [{ path: 'Makefile', content: 'build:\n\tcc x.c\ntest: build\n\t./x\n' }],
      { test: 'make test' },
    ],
    [
      'Makefile without test target',
      [{ path: 'Makefile', content: 'build:\n\tcc x.c\ntest_flags := -v\n' }],
      undefined,
    ],
    [
      'yml install only + package.json',
      [
        { path: '.droidworks.yml', content: 'install: npm ci\n' },
        { path: 'package.json', content: '{"scripts":{"test":"jest"}}' },
      ],
      { install: 'npm ci', test: 'npm test' },
    ],
    ['broken package.json', [{ path: 'package.json', content: '{nope' }], undefined],
    ['nothing', [{ path: 'README.md', content: '# hi' }], undefined],
  ];
  it.each(cases)('%s', async (_name, files, expected) => {
    const got = await detectTestCommand(files);
    if (expected === undefined) expect(got).toBeUndefined();
    else
      expect(got).toMatchObject({
        test: expected.test,
        ...(expected.install ? { install: expected.install } : {}),
      });
  });

  it('takes a reader', async () => {
    const got = await detectTestCommand((p) => (p === 'go.mod' ? 'module x' : undefined));
    expect(got?.test).toBe('go test ./...');
  });
});
