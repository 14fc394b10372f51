// Transport: HTTPS with HSTS, security headers, CORS only for configured origins, and limits on
// what a client may send before the request is even read (a head too large).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { makeUser } from '../factories.ts';

const apps: TestApp[] = [];
let certDir: string;
beforeAll(() => {
  certDir = mkdtempSync(path.join(os.tmpdir(), 'sprintlane-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  rmSync(certDir, { recursive: true, force: true });
});

async function listening(env: Record<string, string>) {
  const t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false', ...env } });
  apps.push(t);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, port: (t.app.server.address() as AddressInfo).port };
}

function get(mod: typeof http | typeof https, port: number, pathname: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = mod.request({ host: '127.0.0.1', port, path: pathname, method, headers, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('transport', () => {
  it('serves HTTPS with TLS_CERT and TLS_KEY, telling browsers to stay on it; plain HTTP gets no HSTS', async () => {
    const secure = await listening({ TLS_CERT: path.join(certDir, 'cert.pem'), TLS_KEY: path.join(certDir, 'key.pem') });
    const who = await makeUser(secure.t);
    const res = await get(https, secure.port, '/v1/api-keys/self', { authorization: `Bearer ${who.key}` });
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    const plain = await listening({});
    const p = await get(http, plain.port, '/healthz');
    expect(p.status).toBe(200);
    expect(p.headers['strict-transport-security']).toBeUndefined();
  });

  it('refuses a request head larger than SPRINTLANE_MAX_HEADER_BYTES with 431, before reading it', async () => {
    const { port } = await listening({ SPRINTLANE_MAX_HEADER_BYTES: '4096' });
    expect((await get(http, port, '/healthz', { 'x-padding': 'a'.repeat(2000) })).status).toBe(200);
    expect((await get(http, port, '/healthz', { 'x-padding': 'a'.repeat(8000) })).status).toBe(431);
  });

  it('cuts off a client that sends its request head too slowly (408, connection closed), and serves others meanwhile', async () => {
    const { port } = await listening({ SPRINTLANE_HEADERS_TIMEOUT_MS: '500' });
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      let got = '';
      socket.on('data', (c) => (got += c.toString()));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await get(http, port, '/healthz')).status).toBe(200);
  });

  it('answers no CORS unless origins are configured, and then only those', async () => {
    const closed = await listening({});
    const pre = { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' };
    const none = await get(http, closed.port, '/v1/workspaces', pre, 'OPTIONS');
    expect(none.headers['access-control-allow-origin']).toBeUndefined();

    const open = await listening({ SPRINTLANE_CORS_ORIGINS: 'https://app.example,http://localhost:5173' });
    const preflight = await get(http, open.port, '/v1/workspaces', pre, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    const stranger = await get(http, open.port, '/v1/workspaces', { ...pre, origin: 'https://evil.example' }, 'OPTIONS');
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
    const who = await makeUser(open.t);
    const real = await get(http, open.port, '/v1/api-keys/self', { origin: 'https://app.example', authorization: `Bearer ${who.key}` });
    expect(real.status).toBe(200);
    expect(real.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(real.headers['access-control-expose-headers'])).toContain('X-RateLimit-Remaining');
  });

  it('refuses a CORS origin that is not an origin, and the wildcard', () => {
    for (const bad of ['*', 'app.example', 'https://app.example/', 'https://app.example/path', 'ftp://app.example']) {
      expect(() => loadConfig({ SPRINTLANE_CORS_ORIGINS: bad }), bad).toThrow(/SPRINTLANE_CORS_ORIGINS/);
    }
  });
});
