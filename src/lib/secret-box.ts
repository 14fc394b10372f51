// Secrets the server must be able to read back (webhook signing secrets), encrypted at rest with
// AES-256-GCM under one key: SPRINTLANE_SECRET_KEY (32 bytes, base64 or hex), or, without it, a key
// made once in the data directory (secret.key, readable by its owner only). Several instances
// that share one PostgreSQL must share the key: give them the same SPRINTLANE_SECRET_KEY.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

export class SecretBox {
  private loaded: Buffer | undefined;

  /** `key`: the key, or where to get it on first use (so that building the app writes no file). */
  constructor(private readonly source: Buffer | (() => Buffer)) {}

  private get key(): Buffer {
    if (!this.loaded) {
      const key = typeof this.source === 'function' ? this.source() : this.source;
      if (key.length !== 32) throw new Error('The secret key must be 32 bytes');
      this.loaded = key;
    }
    return this.loaded;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    const [version, data] = sealed.split('.', 2);
    if (version !== VERSION || !data) throw new Error('Not a sealed secret');
    const raw = Buffer.from(data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** The key as SPRINTLANE_SECRET_KEY gives it: 32 bytes in base64 or hex. */
export function parseSecretKey(text: string): Buffer | undefined {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  return key.length === 32 ? key : undefined;
}

/** The key of SPRINTLANE_SECRET_KEY, or the data directory's (made on first use). */
export function loadSecretKey(fromEnv: Buffer | undefined, dataDir: string): Buffer {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // `wx`: two instances starting at once on one data directory cannot both write it.
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  const key = parseSecretKey(readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 32-byte key`);
  return key;
}
