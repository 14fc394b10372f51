// SSRF protection for webhooks: targets that are, or resolve to, addresses of the server's own
// network are refused at creation (422 naming url) and again when a delivery connects (DNS
// rebinding), unless the operator allows them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { expectError } from '../assertions.ts';
import { makeTask, makeWorld } from '../factories.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

/** Names the tests resolve: a public one, one that resolves to a private address, one to both. */
const NAMES: Record<string, string[]> = {
  'public.example': ['93.184.215.14'],
  'internal.example': ['10.1.2.3'],
  'mixed.example': ['93.184.215.14', '127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'mapped.example': ['::ffff:192.168.1.10'],
};
const resolveHost = async (host: string) => {
  const found = NAMES[host];
  if (!found) throw Object.assign(new Error(`${host} does not resolve`), { code: 'ENOTFOUND' });
  return found;
};

let t: TestApp;
let world: Awaited<ReturnType<typeof makeWorld>>;
beforeAll(async () => {
  t = await createTestApp({ resolveHost, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  world = await makeWorld(t);
});
afterAll(async () => {
  await t?.close();
});

const create = (app: TestApp, w: Awaited<ReturnType<typeof makeWorld>>, url: string) =>
  app.request({ method: 'POST', url: '/v1/webhooks', key: w.owner.key, body: { url, events: ['*'], workspace_id: w.workspace.id } });

describe('webhook targets', () => {
  it.each([
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://127.1/hook', 'loopback, short form'],
    ['https://2130706433/hook', 'loopback, decimal'],
    ['https://0x7f000001/hook', 'loopback, hex'],
    ['https://0x7f.0.0.1/hook', 'loopback, hex octet'],
    ['https://0177.0.0.1/hook', 'loopback, octal'],
    ['https://localhost/hook', 'localhost'],
    ['https://api.localhost/hook', 'a .localhost name'],
    ['https://[::1]/hook', 'IPv6 loopback'],
    ['https://[::ffff:127.0.0.1]/hook', 'IPv4-mapped loopback'],
    ['https://[::ffff:10.0.0.1]/hook', 'IPv4-mapped private'],
    ['https://10.0.0.1/hook', 'private 10/8'],
    ['https://172.16.5.4/hook', 'private 172.16/12'],
    ['https://192.168.0.10/hook', 'private 192.168/16'],
    ['https://169.254.169.254/latest/meta-data', 'link-local (cloud metadata)'],
    ['https://100.64.0.1/hook', 'CGNAT'],
    ['https://0.0.0.0/hook', 'unspecified'],
    ['https://[::]/hook', 'IPv6 unspecified'],
    ['https://[fd00::1]/hook', 'IPv6 unique local'],
    ['https://[fe80::1]/hook', 'IPv6 link-local'],
    ['https://internal.example/hook', 'a name that resolves to a private address'],
    ['https://mixed.example/hook', 'a name with a public and a loopback address'],
    ['https://metadata.example/hook', 'a name that resolves to the metadata address'],
    ['https://mapped.example/hook', 'a name that resolves to an IPv4-mapped private address'],
    ['https://user:pass@public.example/hook', 'credentials in the URL'],
    ['http://public.example/hook', 'plain http while it is off'],
    ['ftp://public.example/hook', 'not http(s)'],
    ['not a url', 'not a URL'],
  ])('refuses %s (%s) with a 422 naming url, and creates nothing', async (url) => {
    const before = await t.deps.database.db.selectFrom('webhooks').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expectError(await create(t, world, url), 422, 'INVALID_WEBHOOK_URL', 'url');
    const after = await t.deps.database.db.selectFrom('webhooks').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toEqual(before.n);
  });

  it.each(['https://public.example/hook', 'https://93.184.215.14/hook', 'https://unresolvable.example/hook'])(
    'accepts %s (public, or not resolvable now: checked again when delivering)',
    async (url) => {
      const res = await create(t, world, url);
      expect(res.status, res.text).toBe(201);
    },
  );

  it('lets the operator allow private targets, or only some ranges of them', async () => {
    const open = await createTestApp({ resolveHost, env: { SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: 'true', SPRINTLANE_WEBHOOK_ALLOW_HTTP: 'true' } });
    const some = await createTestApp({ resolveHost, env: { SPRINTLANE_WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/8, fd00::/8' } });
    try {
      const w1 = await makeWorld(open);
      for (const url of ['http://127.0.0.1:9/hook', 'https://internal.example/hook', 'https://localhost/hook']) expect((await create(open, w1, url)).status, url).toBe(201);
      const w2 = await makeWorld(some);
      for (const url of ['https://10.9.9.9/hook', 'https://internal.example/hook', 'https://[fd00::5]/hook']) expect((await create(some, w2, url)).status, url).toBe(201);
      for (const url of ['https://192.168.1.1/hook', 'https://127.0.0.1/hook', 'https://metadata.example/hook']) expectError(await create(some, w2, url), 422, 'INVALID_WEBHOOK_URL', 'url');
    } finally {
      await open.close();
      await some.close();
    }
  });

  it('checks again when connecting: a name that resolved to a public address and now resolves to loopback is never reached', async () => {
    const receiver: Receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    // Public when the webhook is made; the receiver's loopback address when the delivery connects.
    let rebound = false;
    const app = await createTestApp({
      resolveHost: async (host) => (host === 'rebind.example' ? [rebound ? '127.0.0.1' : '93.184.215.14'] : resolveHost(host)),
      env: { SPRINTLANE_WEBHOOK_ALLOW_HTTP: 'true', SPRINTLANE_WEBHOOK_TIMEOUT_MS: '1000' },
    });
    try {
      const w = await makeWorld(app);
      const hook = await create(app, w, `http://rebind.example:${port}/hook`);
      expect(hook.status, hook.text).toBe(201);
      rebound = true;
      await makeTask(app, w.owner, w.project.id);
      await app.deps.webhookWorker.drain();
      expect(receiver.received).toEqual([]);
      const log = (await app.request({ url: `/v1/webhooks/${hook.body.data.id}/deliveries`, key: w.owner.key })).body.data;
      expect(log[0].attempt_log[0]).toMatchObject({ status_code: null, error: expect.stringContaining('ETARGETFORBIDDEN') });
    } finally {
      await app.close();
      await receiver.close();
    }
  });
});
