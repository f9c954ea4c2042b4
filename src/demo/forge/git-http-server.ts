import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface GitHttpOptions {
  /** Folder holding `<owner>/<repo>.git` bare repositories. */
  readonly root: string;
  /** Returns true when the request's credentials may read (and, for pushes, write) the repository. */
  readonly authorize: (req: IncomingMessage, access: 'read' | 'write', repoPath: string) => boolean;
  /** Called after every successful push with the repository path (`owner/repo`). */
  readonly onPush?: (repoPath: string) => void;
}

const GIT_PATH =
  /^\/([\w.-]+)\/([\w.-]+?)(?:\.git)?(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*))$/;

/**
 * Serves real git smart HTTP (`git http-backend` as CGI) for bare repositories under `root`.
 * Returns false when the URL is not a git URL, so the caller can route it elsewhere.
 */
export function handleGitHttp(options: GitHttpOptions, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = GIT_PATH.exec(url.pathname);
  if (!match) return false;
  const [, owner, repo, rest] = match as unknown as [string, string, string, string];
  const repoPath = `${owner}/${repo}`;
  const isPush = url.searchParams.get('service') === 'git-receive-pack' || rest === '/git-receive-pack';
  if (!options.authorize(req, isPush ? 'write' : 'read', repoPath)) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="droidworks forge"' });
    res.end('authentication required\n');
    return true;
  }
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: options.root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: `/${owner}/${repo}.git${rest}`,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_USER: 'droidworks',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  req.pipe(child.stdin);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

  // Parse the CGI header block, then stream the body.
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let sep = head.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (sep < 0) {
      sep = head.indexOf('\n\n');
      sepLen = 2;
    }
    if (sep < 0) return;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, sep).toString().split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    headersSent = true;
    res.write(head.subarray(sep + sepLen));
  });
  child.on('close', (code) => {
    if (!headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend failed (${code}): ${stderr}`);
      return;
    }
    res.end();
    if (code === 0 && isPush && rest === '/git-receive-pack') options.onPush?.(repoPath);
  });
  child.on('error', (err) => {
    if (!headersSent) {
      res.writeHead(500);
      res.end(String(err));
    }
  });
  return true;
}
