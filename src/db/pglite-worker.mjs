// @ts-check
// The embedded database's thread. PGlite runs PostgreSQL compiled to WebAssembly, synchronously:
// on the main thread every query stops the event loop while it runs. Here it gets a core of its
// own, and the main thread only encodes requests and decodes answers (see pglite-dialect.ts).
//
// Plain JavaScript, not TypeScript: worker threads do not inherit the loaders that run the
// TypeScript sources (tsx, vitest), and the bundle copies this file next to dist/main.js as is.
//
// Messages are handled strictly one at a time, in arrival order: the main thread relies on that
// order to pipeline statements and to keep a transaction's statements together.
import { Blob } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

if (!parentPort) throw new Error('pglite-worker.mjs must run as a worker thread');
const port = parentPort;

/** @type {{ dataDir?: string, loadDataDir?: Uint8Array }} */
const options = workerData ?? {};

/** @param {unknown} err */
function describe(err) {
  if (err && typeof err === 'object') {
    const e = /** @type {Record<string, unknown>} */ (err);
    // The file system's errors (Emscripten's ErrnoError) carry only a name and an errno.
    const message = typeof e.message === 'string' ? e.message : typeof e.errno === 'number' ? `${String(e.name ?? 'error')} (errno ${e.errno})` : String(err);
    const out = /** @type {Record<string, unknown>} */ ({ message });
    for (const key of ['code', 'severity', 'detail', 'hint', 'constraint', 'table', 'column', 'schema', 'routine']) {
      if (typeof e[key] === 'string') out[key] = e[key];
    }
    return out;
  }
  return { message: String(err) };
}

const client = new PGlite({
  dataDir: options.dataDir,
  loadDataDir: options.loadDataDir ? new Blob([options.loadDataDir]) : undefined,
});

/**
 * @param {{ op: string, bytes?: Uint8Array, sql?: string }} msg
 * @returns {Promise<{ chunks?: Uint8Array[], tar?: ArrayBuffer }>}
 */
async function handle(msg) {
  switch (msg.op) {
    case 'exchange': {
      // The callback sees a view of WebAssembly memory that the next write reuses: copy it. The
      // copies own their memory and are transferred as they are; the main thread joins them.
      /** @type {Uint8Array[]} */
      const chunks = [];
      await client.execProtocolRawStream(/** @type {Uint8Array} */ (msg.bytes), { syncToFs: false, onRawData: (data) => void chunks.push(data.slice()) });
      return { chunks };
    }
    case 'script':
      try {
        await client.exec(/** @type {string} */ (msg.sql));
      } catch (err) {
        // A failed script may leave its transaction open; close it on this same session.
        await client.exec('rollback').catch(() => {});
        throw err;
      }
      return {};
    case 'dump': {
      const file = await client.dumpDataDir('none');
      return { tar: await file.arrayBuffer() };
    }
    case 'close':
      if (!client.closed) {
        await client.exec('checkpoint');
        await client.close();
      }
      return {};
    default:
      throw new Error(`unknown operation ${msg.op}`);
  }
}

/** @type {Promise<unknown>} */
let queue = client.waitReady.then(
  // Statements are prepared once (see pglite-dialect.ts); planning them again on every execution,
  // as the default `auto` mode does for most of them, cost a page query 40% of its time here.
  () => client.exec('set plan_cache_mode = force_generic_plan').then(() => port.postMessage({ ready: true })),
  (err) => port.postMessage({ ready: false, error: describe(err) }),
);

port.on('message', (/** @type {{ id: number, op: string, bytes?: Uint8Array, sql?: string }} */ msg) => {
  queue = queue.then(async () => {
    try {
      const result = await handle(msg);
      /** @type {Transferable[]} */
      const transfer = [];
      for (const c of result.chunks ?? []) transfer.push(c.buffer);
      if (result.tar) transfer.push(result.tar);
      port.postMessage({ id: msg.id, ...result }, transfer);
    } catch (err) {
      port.postMessage({ id: msg.id, error: describe(err) });
    }
    if (msg.op === 'close') port.close();
  });
});
