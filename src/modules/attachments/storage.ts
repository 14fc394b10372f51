import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { looksLikeId } from '../../lib/ids.ts';
import { ContentCheck } from './content-type.ts';

export interface Received {
  /** The temporary file holding the bytes, synced. */
  tmp: string;
  size: number;
  sha256: string;
  /** Whether the bytes are what the declared type says (content-type.ts). */
  matches: boolean;
}

/**
 * The files of attachments, under `<data dir>/attachments`, each named by its attachment's id.
 * An upload goes to `.tmp` first and is renamed into place (after an fsync of the file and of
 * the directory) before its row is committed.
 */
export class AttachmentStore {
  private ready: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  private init(): Promise<void> {
    this.ready ??= mkdir(path.join(this.dir, '.tmp'), { recursive: true }).then(() => undefined);
    return this.ready;
  }

  private file(id: string): string {
    if (!looksLikeId('att', id)) throw new Error(`not an attachment id: ${id}`);
    return path.join(this.dir, id);
  }

  /** Streams an upload to a temporary file, hashing and checking it on the way. */
  async receive(source: Readable, type: string): Promise<Received> {
    await this.init();
    const tmp = path.join(this.dir, '.tmp', randomUUID());
    const hash = createHash('sha256');
    const check = new ContentCheck(type);
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        hash.update(chunk);
        check.push(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, tap, createWriteStream(tmp, { flags: 'wx' }));
      const handle = await open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { tmp, size, sha256: hash.digest('hex'), matches: check.matches() };
  }

  /** Moves a received file into place as the attachment's, durably. */
  async keep(tmp: string, id: string): Promise<void> {
    await rename(tmp, this.file(id));
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async discard(tmp: string): Promise<void> {
    await unlink(tmp).catch(() => undefined);
  }

  async remove(id: string): Promise<void> {
    await unlink(this.file(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  read(id: string): ReadStream {
    return createReadStream(this.file(id));
  }

  /**
   * Removes files older than `minAgeMs` that no attachment row names (`known` answers which ids
   * still have one): uploads that failed between the file and the row, and the files of tasks
   * deleted with their project or workspace. Returns how many it removed.
   */
  async sweep(known: (ids: string[]) => Promise<Set<string>>, minAgeMs: number, now = Date.now()): Promise<number> {
    await this.init();
    let removed = 0;
    const old = async (file: string) => {
      const info = await stat(file).catch(() => undefined);
      return info !== undefined && now - info.mtimeMs >= minAgeMs;
    };
    const tmpDir = path.join(this.dir, '.tmp');
    for (const name of await readdir(tmpDir)) {
      const file = path.join(tmpDir, name);
      if (await old(file)) {
        await unlink(file).catch(() => undefined);
        removed++;
      }
    }
    const ids = (await readdir(this.dir)).filter((name) => looksLikeId('att', name));
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const alive = await known(chunk);
      for (const id of chunk) {
        if (!alive.has(id) && (await old(this.file(id)))) {
          await this.remove(id);
          removed++;
        }
      }
    }
    return removed;
  }
}
