import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

export class DataDirLockedError extends Error {}

interface Holder {
  pid: number;
  host: string;
  /** The holder's process start time (Linux clock ticks), so a reused pid is not mistaken for it. */
  start: string | null;
  since: string;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) follows the parenthesised command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true; // cannot check another machine: assume it is running
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.start === null) return true;
  const start = processStart(holder.pid);
  return start === null || start === holder.start;
}

/**
 * The embedded database is single-process. A lock file names its holder; a second server refuses
 * to start, and a lock left by a killed process is taken over.
 */
export function acquireDataDirLock(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'sprintlane.lock');
  const me: Holder = { pid: process.pid, host: hostname(), start: processStart(process.pid), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return {
        release() {
          try {
            const current = JSON.parse(readFileSync(file, 'utf8')) as Holder;
            if (current.pid === me.pid && current.host === me.host) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    } catch {
      holder = undefined; // unreadable or half-written by a process killed mid-write: stale
    }
    if (holder && alive(holder)) {
      throw new DataDirLockedError(
        `The data directory ${dataDir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}). ` +
          'Stop that server first, or point SPRINTLANE_DATA_DIR elsewhere.',
      );
    }
    try {
      unlinkSync(file);
    } catch {
      // another starter took it over first; try again
    }
  }
  throw new DataDirLockedError(`Could not take the lock on ${dataDir}`);
}
