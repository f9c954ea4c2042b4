/** The variables each command reads, and one example, shown at the end of its `--help`. */
const GITHUB_AUTH = [
  ['GITHUB_TOKEN', 'a token (scopes: repo; fine-grained: contents, issues, pull requests, checks: write)'],
  ['GITHUB_APP_ID, GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH', 'a GitHub App instead of a token'],
  ['GITHUB_API_URL', 'GitHub Enterprise: https://<host>/api/v3 (default https://api.github.com)'],
] as const;
const MODELS = [
  ['ANTHROPIC_API_KEY, OPENAI_API_KEY', 'at least one model key'],
  ['ANTHROPIC_BASE_URL, OPENAI_BASE_URL', 'another endpoint speaking the same API (vLLM, Ollama, a proxy)'],
  ['DROIDWORKS_MODEL_<ROLE>', 'provider:model lists per role (PLANNER, CODER, REVIEWER, SUMMARIZER)'],
] as const;
const WORKER = [
  ['DROIDWORKS_DATA_DIR', 'mirrors, worktrees, sandboxes (default ./.droidworks, made absolute)'],
  ['DOCKER_HOST', 'the Docker engine for sandboxes (default the local socket)'],
  ['DROIDWORKS_RUNNER_IMAGE', 'sandbox image (default droidworks/runner:bookworm-1)'],
] as const;
const GATEWAY = [
  ['GITHUB_WEBHOOK_SECRET', 'the secret of the repository webhook or the App (required)'],
  ['PORT, HOST', 'where the gateway listens (default 3000 on 0.0.0.0)'],
  ['DROIDWORKS_BOT_LOGIN', 'the bot account whose own events are ignored (App: <slug>[bot])'],
  ['DROIDWORKS_PUBLIC_URL', 'the address users reach the dashboard at (run links in comments)'],
  ['DROIDWORKS_DASHBOARD_TOKEN', 'dashboard sign-in as the admin (24+ characters)'],
  ['GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET', "dashboard sign-in with GitHub (the App's OAuth client)"],
  ['DROIDWORKS_WEBHOOK_LANE', "on (default) or off: off serves every request through node's http"],
] as const;

const TRACES = [
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'optional: send traces to this OpenTelemetry collector (OTLP/HTTP)'],
] as const;

type Rows = ReadonlyArray<readonly [string, string]>;

function render(rows: Rows, example: string): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    '',
    'Environment (also read from ./.env, or the file given with --dotenv; `droidworks doctor` checks them):',
    ...rows.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`),
    '',
    'Example:',
    `  ${example}`,
  ].join('\n');
}

export const HELP: Readonly<Record<string, string>> = {
  start: render(
    [
      ...GITHUB_AUTH,
      ...GATEWAY,
      ...MODELS,
      ['REDIS_URL', 'unset: an embedded redis-server under DROIDWORKS_DATA_DIR'],
      ...WORKER,
      ...TRACES,
    ],
    'GITHUB_TOKEN=ghp_… GITHUB_WEBHOOK_SECRET=$(openssl rand -hex 20) ANTHROPIC_API_KEY=sk-ant-… npx droidworks start',
  ),
  gateway: render(
    [
      ['REDIS_URL', 'the shared Redis (required)'],
      ...GATEWAY,
      ['GITHUB_API_URL', 'for links in the dashboard'],
      ...TRACES,
    ],
    'REDIS_URL=redis://redis.internal:6379 GITHUB_WEBHOOK_SECRET=… npx droidworks gateway',
  ),
  worker: render(
    [['REDIS_URL', 'the shared Redis (required)'], ...GITHUB_AUTH, ...MODELS, ...WORKER, ...TRACES],
    'REDIS_URL=redis://redis.internal:6379 GITHUB_TOKEN=ghp_… OPENAI_API_KEY=sk-… npx droidworks worker',
  ),
  doctor: render(
    [
      ['REDIS_URL', 'checked when set; otherwise that redis-server is installed'],
      ...GITHUB_AUTH,
      ['GITHUB_WEBHOOK_SECRET', 'that it is set'],
      ...MODELS,
      ...WORKER,
    ],
    'npx droidworks --dotenv /etc/droidworks/droidworks.env doctor',
  ),
  'runs show': render(
    [
      ['REDIS_URL', 'the Redis the gateway and workers use (required)'],
      ['DROIDWORKS_QUEUE_PREFIX', 'key prefix (default droidworks)'],
    ],
    'REDIS_URL=redis://127.0.0.1:6379 npx droidworks runs show acme-widget-12-ab12cd34',
  ),
  run: render(
    [...GITHUB_AUTH, ...MODELS, ['REDIS_URL', 'unset: an embedded redis-server'], ...WORKER],
    'ANTHROPIC_API_KEY=sk-ant-… npx droidworks run --dir . --task "make the failing test pass"',
  ),
  demo: render(
    [
      ['ANTHROPIC_API_KEY, OPENAI_API_KEY', 'optional: a real model drives the droid (else a scripted one)'],
      ['REDIS_URL', 'optional: use this Redis instead of an embedded one'],
      ['DROIDWORKS_SANDBOX, DROIDWORKS_RUNNER_IMAGE', 'sandbox backend and image'],
    ],
    'npx droidworks demo --exit',
  ),
};
