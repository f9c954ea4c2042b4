// @ts-check
/**
 * Health check of the droidworks image (Dockerfile `HEALTHCHECK`, compose `healthcheck`), Node
 * built-ins only. `gateway` / `start`: `GET /healthz` on `PORT` answers 200. `worker` (no HTTP
 * server): the Docker engine answers `/_ping` and Redis answers `PING`. Without an argument the role
 * is read from the container's main command. Exit 0 healthy, 1 not (with the reason on stderr).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

const TIMEOUT_MS = 4000;

/** @returns {'worker' | 'http'} */
function role() {
  const arg = process.argv[2];
  if (arg) return arg === 'worker' ? 'worker' : 'http';
  let cmd = '';
  try {
    cmd = readFileSync('/proc/1/cmdline', 'utf8').split('\0').join(' ');
  } catch {
    // Not readable: assume the HTTP half, the image's default command (`start`).
  }
  return / worker( |$)/.test(cmd) ? 'worker' : 'http';
}

/**
 * @param {import('node:http').RequestOptions} options
 * @returns {Promise<void>}
 */
function get(options) {
  return new Promise((resolve, reject) => {
    const req = request({ ...options, method: 'GET', timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`${options.path} answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`${options.path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** @returns {Promise<void>} */
function dockerPing() {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return get({ socketPath: host.slice('unix://'.length), path: '/_ping' });
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return get({ host: url.hostname, port: Number(url.port || 2375), path: '/_ping' });
}

/** @returns {Promise<void>} */
function redisPing() {
  const raw = process.env.REDIS_URL;
  if (!raw) return Promise.reject(new Error('REDIS_URL is not set'));
  const url = new URL(raw);
  const port = Number(url.port || 6379);
  return new Promise((resolve, reject) => {
    const socket =
      url.protocol === 'rediss:'
        ? tlsConnect({ host: url.hostname, port, servername: url.hostname })
        : connect({ host: url.hostname, port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`Redis at ${url.host} timed out`)));
    socket.on('error', reject);
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    if (pass) socket.write(user ? `AUTH ${user} ${pass}\r\n` : `AUTH ${pass}\r\n`);
    socket.write('PING\r\n');
    let out = '';
    socket.on('data', (chunk) => {
      out += chunk.toString();
      if (out.includes('+PONG')) {
        socket.end();
        resolve();
      } else if (out.includes('-')) {
        socket.destroy();
        reject(new Error(`Redis at ${url.host} answered ${out.trim()}`));
      }
    });
  });
}

try {
  if (role() === 'worker') await Promise.all([dockerPing(), redisPing()]);
  else await get({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000), path: '/healthz' });
  process.exit(0);
} catch (err) {
  process.stderr.write(`unhealthy: ${/** @type {Error} */ (err).message}\n`);
  process.exit(1);
}
