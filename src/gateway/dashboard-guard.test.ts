import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardGuard, isLoopback } from './dashboard-guard.js';

describe('dashboardGuard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['192.168.1.2', false],
    ['::ffff:10.0.0.5', false],
    ['2001:db8::1', false],
    ['', false],
    [undefined, false],
  ])('isLoopback(%s) → %s', (address, expected) => expect(isLoopback(address)).toBe(expected));

  let server: ServerType | undefined;
  afterEach(async () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serveGuarded(password: string | undefined): Promise<string> {
    const app = new Hono();
    app.use('/runs', dashboardGuard(password));
    app.get('/runs', (c) => c.text('runs'));
    return new Promise((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      );
    });
  }

  it('without a password, serves this machine', async () => {
    const url = await serveGuarded(undefined);
    expect((await fetch(`${url}/runs`)).status).toBe(200);
  });

  it('with a password, asks everyone for it', async () => {
    const url = await serveGuarded('correct horse battery');
    expect((await fetch(`${url}/runs`)).status).toBe(401);
    const wrong = Buffer.from('droidworks:nope').toString('base64');
    expect((await fetch(`${url}/runs`, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(401);
    const right = Buffer.from('droidworks:correct horse battery').toString('base64');
    const res = await fetch(`${url}/runs`, { headers: { authorization: `Basic ${right}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('runs');
  });
});
