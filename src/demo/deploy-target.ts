import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** One call the target's deploy hook received (signature already verified). */
export interface HookCall {
  readonly event: string;
  readonly body: {
    readonly action: 'deploy' | 'rollback';
    readonly repository: string;
    readonly environment: string;
    readonly sha: string;
    readonly previousSha: string | null;
    readonly deploymentId: number;
    readonly runId: string;
  };
  readonly receivedAt: number;
}

/**
 * A service under deploy on loopback (the demo's and the tests'): `POST /hook` is a signed deploy
 * receiver that verifies `X-Droidworks-Signature-256` exactly as a real one would and "deploys" the
 * SHA to the named environment; `GET /<environment>/healthz` answers 200 `ok`, or 503 while the
 * deployed SHA is marked broken (`broken` holds `<sha>` for everywhere or `<environment>@<sha>`). Tests control failures, delays and broken SHAs.
 */
export async function startDeployTarget(secret: string) {
  const deployed = new Map<string, string>();
  const broken = new Set<string>();
  const calls: HookCall[] = [];
  const commandCalls: Array<{ environment: string; sha: string; file?: string; receivedAt: number }> = [];
  const rejected: string[] = [];
  const inFlight = new Map<string, number>();
  let maxInFlight = 0;
  const control = {
    /** Answer the next hooks with this status (e.g. 500 to fail a deploy or a rollback). */
    hookStatus: (_call: HookCall): number => 200,
    /** How long a hook takes before answering. */
    hookDelayMs: 0,
  };

  const verify = (raw: Buffer, header: string | undefined): boolean => {
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://target.invalid');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (req.method === 'POST' && url.pathname === '/hook') {
      if (!verify(raw, req.headers['x-droidworks-signature-256'] as string | undefined)) {
        rejected.push(raw.toString('utf8'));
        res.writeHead(401).end('bad signature');
        return;
      }
      const call: HookCall = {
        event: String(req.headers['x-droidworks-event'] ?? ''),
        body: JSON.parse(raw.toString('utf8')) as HookCall['body'],
        receivedAt: Date.now(),
      };
      calls.push(call);
      const env = call.body.environment;
      inFlight.set(env, (inFlight.get(env) ?? 0) + 1);
      maxInFlight = Math.max(maxInFlight, inFlight.get(env) ?? 0);
      try {
        if (control.hookDelayMs > 0) await new Promise((r) => setTimeout(r, control.hookDelayMs));
        const status = control.hookStatus(call);
        if (status >= 200 && status < 300) deployed.set(env, call.body.sha);
        res
          .writeHead(status, { 'content-type': 'text/plain' })
          .end(status < 300 ? 'deployed' : 'deploy tool failed');
      } finally {
        inFlight.set(env, (inFlight.get(env) ?? 1) - 1);
      }
      return;
    }
    // A plain endpoint for `command` deployers: bearer token = the secret, JSON { environment, sha, file }.
    if (req.method === 'POST' && url.pathname === '/command') {
      if (req.headers.authorization !== `Bearer ${secret}`) {
        rejected.push(raw.toString('utf8'));
        res.writeHead(401).end('bad token');
        return;
      }
      const body = JSON.parse(raw.toString('utf8')) as { environment: string; sha: string; file?: string };
      commandCalls.push({ ...body, receivedAt: Date.now() });
      deployed.set(body.environment, body.sha);
      res.writeHead(200).end('deployed');
      return;
    }
    const health = /^\/([^/]+)\/healthz$/.exec(url.pathname);
    if (req.method === 'GET' && health) {
      const env = health[1] ?? '';
      const sha = deployed.get(env);
      const ok = sha !== undefined && !broken.has(sha) && !broken.has(`${env}@${sha}`);
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ok ? `ok ${sha}` : `down ${sha ?? 'nothing deployed'}`);
      return;
    }
    res.writeHead(404).end();
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('deploy target has no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    hookUrl: `${url}/hook`,
    healthUrl: (environment: string) => `${url}/${environment}/healthz`,
    calls,
    commandCalls,
    rejected,
    deployed,
    broken,
    control,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type DeployTarget = Awaited<ReturnType<typeof startDeployTarget>>;
