// The arithmetic of time reports, on entries read as epoch seconds: each entry is cut to the
// period and at every midnight of the report's time zone (given as instants, computed by the
// database once per report), and the pieces are summed by whatever the report groups by.
//
// Why here and not in SQL: cutting 12,000 entries at midnights in SQL cost 20–30 ms of time-zone
// conversions on PostgreSQL (four per piece), against about 2 ms here with a binary search in the
// period's midnights; the entries come from an index-only scan either way. Grouping in SQL with
// width_bucket over the midnights (no conversions) was slower still on the benchmark's 90-day
// report: 60–150 ms, most of it the sorts behind count(distinct).
//
// Entries are held column by column, with users and tasks as small integers (their index in the
// report's lists of ids), so that the accumulators are arrays indexed by those integers rather
// than maps keyed by ids, and no object is made per entry.

/** A report's entries, column by column: entry n is [s[n], e[n]) in whole epoch seconds. */
export interface ReportEntries {
  length: number;
  /** The ids behind the indexes in `user` and `task`. */
  userIds: string[];
  taskIds: string[];
  /** The index of a task id in taskIds (undefined: none of the entries is on that task). */
  taskIndex: (id: string) => number | undefined;
  user: Int32Array;
  task: Int32Array;
  /** 1 when billable. */
  billable: Uint8Array;
  s: Float64Array;
  e: Float64Array;
  /** Entry ids (integers as text), when read: productivity breaks ties between equal starts with them. */
  ids?: string[];
}

/** Collects entries into columns; `capacity` is the number of entries that will be added. */
export class ReportEntriesBuilder {
  readonly #users = new Map<string, number>();
  readonly #tasks = new Map<string, number>();
  readonly #out: ReportEntries;

  constructor(capacity: number, withIds = false) {
    this.#out = {
      length: 0,
      userIds: [],
      taskIds: [],
      taskIndex: (id) => this.#tasks.get(id),
      user: new Int32Array(capacity),
      task: new Int32Array(capacity),
      billable: new Uint8Array(capacity),
      s: new Float64Array(capacity),
      e: new Float64Array(capacity),
      ids: withIds ? [] : undefined,
    };
  }

  /** The index of a user id, added on first sight. */
  user(id: string): number {
    return intern(this.#users, this.#out.userIds, id);
  }

  /** The index of a task id, added on first sight. */
  task(id: string): number {
    return intern(this.#tasks, this.#out.taskIds, id);
  }

  add(user: number, task: number, billable: boolean, s: number, e: number, id?: string): void {
    const o = this.#out;
    const n = o.length++;
    if (n >= o.s.length) throw new RangeError(`more entries than the ${o.s.length} announced`);
    o.user[n] = user;
    o.task[n] = task;
    o.billable[n] = billable ? 1 : 0;
    o.s[n] = s;
    o.e[n] = e;
    if (o.ids) o.ids.push(id ?? String(n));
  }

  build(): ReportEntries {
    return this.#out;
  }
}

function intern(index: Map<string, number>, ids: string[], id: string): number {
  let n = index.get(id);
  if (n === undefined) index.set(id, (n = ids.push(id) - 1));
  return n;
}

export type Dimension = 'total' | 'user' | 'task' | 'day' | 'week' | 'month' | 'billable' | 'label';

export interface Group {
  key: string | null;
  seconds: number;
  /** Entries with time in the group (an entry cut at midnight counts in each of its days). */
  entries: number;
  /** Distinct tasks with time in the group. */
  tasks: number;
}

/** The index i of the day holding instant t: midnights[i] <= t < midnights[i + 1]. */
function dayOf(midnights: readonly number[], t: number): number {
  let lo = 0;
  let hi = midnights.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (midnights[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The pieces of a report's entries: piece k is `seconds[k]` of entry `entry[k]` on day `day[k]`. */
export interface Pieces {
  length: number;
  entry: Int32Array;
  day: Int32Array;
  seconds: Float64Array;
}

/**
 * Cuts every entry to the period [midnights[0], midnights[last]) and at each midnight: the
 * pieces in entry order and, within an entry, in day order.
 */
export function cut(entries: ReportEntries, midnights: readonly number[]): Pieces {
  const from = midnights[0]!;
  const last = midnights.length - 1;
  const to = midnights[last]!;
  const { s: starts, e: ends } = entries;
  // An entry lasts at most 24 hours, so it has at most three pieces (a day can be 23 hours long).
  let out: Pieces = { length: 0, entry: new Int32Array(entries.length + 16), day: new Int32Array(entries.length + 16), seconds: new Float64Array(entries.length + 16) };
  const push = (n: number, d: number, seconds: number) => {
    if (out.length === out.entry.length) out = grow(out);
    out.entry[out.length] = n;
    out.day[out.length] = d;
    out.seconds[out.length++] = seconds;
  };
  // Entries come mostly in order of start: the previous entry's day is tried before a search.
  let day = 0;
  for (let n = 0; n < entries.length; n++) {
    const s = starts[n]! > from ? starts[n]! : from;
    const e = ends[n]! < to ? ends[n]! : to;
    if (e <= s) continue;
    if (!(midnights[day]! <= s && s < midnights[day + 1]!)) day = dayOf(midnights, s);
    for (let d = day; d < last && midnights[d]! < e; d++) {
      const lo = midnights[d]! > s ? midnights[d]! : s;
      const hi = midnights[d + 1]! < e ? midnights[d + 1]! : e;
      if (hi > lo) push(n, d, hi - lo);
    }
  }
  return out;
}

function grow(p: Pieces): Pieces {
  const size = p.entry.length * 2;
  const entry = new Int32Array(size);
  const day = new Int32Array(size);
  const seconds = new Float64Array(size);
  entry.set(p.entry);
  day.set(p.day);
  seconds.set(p.seconds);
  return { length: p.length, entry, day, seconds };
}

export interface GroupOptions {
  /** The period's local dates, one per day (midnights has one more entry). */
  dates: readonly string[];
  /** For `label`: each label's tasks, and where the label stands in each task's labels. */
  tasksByLabel?: ReadonlyMap<string, LabelledTasks>;
  /** For `week`: the key of a date's week (the Monday that starts it). */
  weekOf: (date: string) => string;
}

export interface LabelledTasks {
  ids: readonly string[];
  positions: ArrayLike<number>;
}

/** More than the label groups a report can have (a task has at most 50 labels). */
const LABELS = 2 ** 32;

const enum Kind {
  Total,
  User,
  Task,
  Day,
  Billable,
  Label,
}

/** One dimension's groups: their keys, and their sums by group index. */
interface Plan {
  kind: Kind;
  keys: (string | null)[];
  /** For Day: each day's group (a day, week or month). */
  dayGroup?: Int32Array;
  /** For Label: each task's label groups (group 0 is "no label"). */
  taskLabels?: number[][];
  seconds: Float64Array;
  entries: Int32Array;
  tasks: Int32Array;
  /** The last entry counted in each group: an entry counts once per group, and so does its task. */
  lastEntry: Int32Array;
  /** Bit group * taskCount + task is set once that task is counted in that group (see TaskSet). */
  seen: TaskSet;
}

/**
 * The (group, task) pairs already counted: a bitmap while it stays small (a 90-day report of 50
 * users over 5,000 tasks needs 31 KiB; a Set of the same pairs cost 5 ms a report), a Set beyond.
 */
class TaskSet {
  readonly #bits: Uint32Array | undefined;
  readonly #set: Set<number> | undefined;

  constructor(pairs: number) {
    if (pairs <= 1 << 24) this.#bits = new Uint32Array(Math.ceil(pairs / 32));
    else this.#set = new Set();
  }

  /** Adds the pair; true if it was not there. */
  add(pair: number): boolean {
    const bits = this.#bits;
    if (bits) {
      const word = pair >>> 5;
      const bit = 1 << (pair & 31);
      if (bits[word]! & bit) return false;
      bits[word]! |= bit;
      return true;
    }
    if (this.#set!.has(pair)) return false;
    this.#set!.add(pair);
    return true;
  }
}

function plan(dim: Dimension, entries: ReportEntries, o: GroupOptions): Plan {
  let kind: Kind;
  let keys: (string | null)[];
  let dayGroup: Int32Array | undefined;
  let taskLabels: number[][] | undefined;
  switch (dim) {
    case 'total':
      kind = Kind.Total;
      keys = [null];
      break;
    case 'user':
      kind = Kind.User;
      keys = entries.userIds;
      break;
    case 'task':
      kind = Kind.Task;
      keys = entries.taskIds;
      break;
    case 'billable':
      kind = Kind.Billable;
      keys = ['false', 'true'];
      break;
    case 'day':
    case 'week':
    case 'month': {
      kind = Kind.Day;
      keys = [];
      const index = new Map<string, number>();
      dayGroup = new Int32Array(o.dates.length);
      o.dates.forEach((date, d) => {
        const key = dim === 'day' ? date : dim === 'week' ? o.weekOf(date) : `${date.slice(0, 7)}-01`;
        let g = index.get(key);
        if (g === undefined) index.set(key, (g = keys.push(key) - 1));
        dayGroup![d] = g;
      });
      break;
    }
    case 'label': {
      kind = Kind.Label;
      keys = [null];
      // Each task's labels as position * LABELS + group, sorted below into the task's own order.
      const lists: number[][] = entries.taskIds.map(() => []);
      for (const [label, { ids, positions }] of o.tasksByLabel ?? []) {
        const g = keys.push(label) - 1;
        ids.forEach((id, i) => {
          const t = entries.taskIndex(id);
          if (t !== undefined) lists[t]!.push(positions[i]! * LABELS + g);
        });
      }
      const none = [0];
      taskLabels = lists.map((list) => {
        if (list.length === 0) return none;
        if (list.length > 1) list.sort((a, b) => a - b);
        for (let i = 0; i < list.length; i++) list[i] = list[i]! % LABELS;
        return list;
      });
      break;
    }
  }
  const size = keys.length;
  return {
    kind,
    keys,
    dayGroup,
    taskLabels,
    seconds: new Float64Array(size),
    entries: new Int32Array(size),
    tasks: new Int32Array(size),
    lastEntry: new Int32Array(size).fill(-1),
    // By task, each group is one task: nothing to remember.
    seen: new TaskSet(kind === Kind.Task ? 0 : size * entries.taskIds.length),
  };
}

/**
 * Sums the pieces by each dimension asked for. `label`: a piece on a task with n labels gives
 * each label its n-th share in whole seconds, the first (seconds mod n) labels one second more,
 * so that the shares add up to the piece; tasks without labels are under key null. Groups
 * without entries are left out, except the total.
 */
export function group(entries: ReportEntries, midnights: readonly number[], dims: readonly Dimension[], o: GroupOptions): Map<Dimension, Group[]> {
  const plans = dims.map((dim) => plan(dim, entries, o));
  const taskCount = entries.taskIds.length;
  const { user, task, billable } = entries;
  const pieces = cut(entries, midnights);
  const { entry, day, seconds } = pieces;
  const add = (p: Plan, g: number, n: number, piece: number) => {
    p.seconds[g]! += piece;
    if (p.lastEntry[g] !== n) {
      p.lastEntry[g] = n;
      p.entries[g]!++;
      if (p.kind === Kind.Task ? p.tasks[g] === 0 : p.seen.add(g * taskCount + task[n]!)) p.tasks[g]!++;
    }
  };
  // A loop per dimension, each over all pieces.
  for (const p of plans) {
    const { dayGroup, taskLabels } = p;
    for (let k = 0; k < pieces.length; k++) {
      const n = entry[k]!;
      switch (p.kind) {
        case Kind.Total:
          add(p, 0, n, seconds[k]!);
          break;
        case Kind.User:
          add(p, user[n]!, n, seconds[k]!);
          break;
        case Kind.Task:
          add(p, task[n]!, n, seconds[k]!);
          break;
        case Kind.Day:
          add(p, dayGroup![day[k]!]!, n, seconds[k]!);
          break;
        case Kind.Billable:
          add(p, billable[n]!, n, seconds[k]!);
          break;
        case Kind.Label: {
          const labels = taskLabels![task[n]!]!;
          const piece = seconds[k]!;
          const share = Math.floor(piece / labels.length);
          const extra = piece % labels.length;
          for (let i = 0; i < labels.length; i++) add(p, labels[i]!, n, share + (i < extra ? 1 : 0));
          break;
        }
      }
    }
  }
  const out = new Map<Dimension, Group[]>();
  dims.forEach((dim, k) => {
    const p = plans[k]!;
    const rows: Group[] = [];
    p.keys.forEach((key, g) => {
      if (p.entries[g]! > 0 || p.kind === Kind.Total) rows.push({ key, seconds: p.seconds[g]!, entries: p.entries[g]!, tasks: p.tasks[g]! });
    });
    out.set(dim, rows);
  });
  return out;
}

export interface UserProductivity {
  user_id: string;
  seconds: number;
  focus_seconds: number;
  sessions: number;
  switches: number;
}

/** Entry ids are integers as text: compared as numbers, without BigInt. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Per user: seconds within the period, focus seconds (of entries that last at least
 * `focusSeconds` in all), sessions (entries with time in the period) and context switches (per
 * local day, entries in order of their start within the period, ties by id: each one on another
 * task than the one before it counts 1). Users without time in the period are left out.
 */
export function productivity(entries: ReportEntries, midnights: readonly number[], focusSeconds: number): UserProductivity[] {
  const users = entries.userIds.map((user_id) => ({ user_id, seconds: 0, focus_seconds: 0, sessions: 0, switches: 0 }));
  const { user, task, s: starts, e: ends } = entries;
  // Each session's entry, its day, and its start within the period.
  const sessions: number[] = [];
  const sessionDay: number[] = [];
  const sessionStart: number[] = [];
  const pieces = cut(entries, midnights);
  let last = -1;
  for (let k = 0; k < pieces.length; k++) {
    const n = pieces.entry[k]!;
    const u = users[user[n]!]!;
    u.seconds += pieces.seconds[k]!;
    if (ends[n]! - starts[n]! >= focusSeconds) u.focus_seconds += pieces.seconds[k]!;
    if (last !== n) {
      last = n;
      u.sessions++;
      sessionDay[sessions.length] = pieces.day[k]!;
      sessionStart[sessions.length] = Math.max(starts[n]!, midnights[0]!);
      sessions.push(n);
    }
  }
  const order = sessions.map((_, i) => i);
  const byId = entries.ids;
  order.sort((a, b) => {
    const x = sessions[a]!;
    const y = sessions[b]!;
    return user[x]! - user[y]! || sessionDay[a]! - sessionDay[b]! || sessionStart[a]! - sessionStart[b]! || (byId ? compareIds(byId[x]!, byId[y]!) : x - y);
  });
  for (let i = 1; i < order.length; i++) {
    const a = order[i - 1]!;
    const b = order[i]!;
    const prev = sessions[a]!;
    const cur = sessions[b]!;
    if (user[prev] === user[cur] && sessionDay[a] === sessionDay[b] && task[prev] !== task[cur]) users[user[cur]!]!.switches++;
  }
  return users.filter((u) => u.sessions > 0);
}
