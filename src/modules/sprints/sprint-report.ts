// A sprint's report, replayed from its log (sprint-log.ts): what it held at each day's end, what
// joined and left it while it ran. Pure: the service reads the rows and the day boundaries.

export interface LogEntry {
  task_id: string;
  /** Epoch milliseconds. */
  at: number;
  in_sprint: boolean;
  status: string;
  estimated_minutes: number | null;
}

export interface Counts {
  tasks: number;
  estimated_minutes: number;
}

export interface ScopeChange extends Counts {
  task_ids: string[];
}

export interface BurndownDay {
  date: string;
  scope: Counts | null;
  completed: Counts | null;
  remaining: Counts | null;
  ideal_remaining: Counts;
}

export interface ReplayInput {
  log: LogEntry[];
  /** Statuses that count as finished. */
  finished: ReadonlySet<string>;
  /** Epoch ms: rows up to and including it make the sprint as it started. */
  startedAt: number;
  /**
   * Epoch ms: when the sprint ended (Infinity while it runs). Rows after it are ignored, and so are
   * departures at it: those are the end's own moves of the unfinished tasks.
   */
  cutoff: number;
  /** Epoch ms: days that begin after it have no actual values yet. */
  now: number;
  days: string[];
  /** Epoch ms of each day's first instant, and of the day after the last. */
  midnights: number[];
  /** Days from the day the sprint started to `days[0]` (0 unless the report shows only its last year). */
  firstDay: number;
  /** Days from the day the sprint started to its planned last day, both included: the ideal line reaches 0 at that day's end. */
  plannedDays: number;
  committed: Counts;
}

export interface Replay {
  /** In the sprint and finished, at the cutoff (or now). */
  completed: Counts;
  /** In the sprint and unfinished, at the cutoff (or now). */
  remaining: Counts;
  added: ScopeChange;
  removed: ScopeChange;
  burndown: BurndownDay[];
}

interface TaskState {
  in: boolean;
  done: boolean;
  minutes: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function replaySprint(input: ReplayInput): Replay {
  const { log, finished, startedAt, cutoff } = input;
  const state = new Map<string, TaskState>();
  let scopeTasks = 0;
  let scopeMinutes = 0;
  let doneTasks = 0;
  let doneMinutes = 0;
  const added = new Map<string, number>();
  const removed = new Map<string, number>();
  const account = (s: TaskState, sign: 1 | -1) => {
    if (!s.in) return;
    scopeTasks += sign;
    scopeMinutes += sign * s.minutes;
    if (s.done) {
      doneTasks += sign;
      doneMinutes += sign * s.minutes;
    }
  };
  let next = 0;
  /** Applies the rows before `until` (and up to the cutoff). */
  const applyUntil = (until: number) => {
    for (; next < log.length && log[next]!.at < until && log[next]!.at <= cutoff; next++) {
      const row = log[next]!;
      if (row.at === cutoff && !row.in_sprint) continue;
      const before = state.get(row.task_id);
      const after: TaskState = { in: row.in_sprint, done: finished.has(row.status), minutes: row.estimated_minutes ?? 0 };
      if (before) account(before, -1);
      account(after, 1);
      state.set(row.task_id, after);
      if (row.at > startedAt) {
        if (after.in && !before?.in && !added.has(row.task_id)) added.set(row.task_id, after.minutes);
        if (before?.in && !after.in && !removed.has(row.task_id)) removed.set(row.task_id, before.minutes);
      }
    }
  };
  // The sprint as it started: no row up to then counts as added or removed.
  applyUntil(startedAt + 1);
  const n = Math.max(1, input.plannedDays);
  const ideal = (i: number): Counts => {
    const share = Math.max(0, n - 1 - i) / n;
    return { tasks: round2(input.committed.tasks * share), estimated_minutes: round2(input.committed.estimated_minutes * share) };
  };
  const burndown = input.days.map((date, i): BurndownDay => {
    if (input.midnights[i]! > input.now) return { date, scope: null, completed: null, remaining: null, ideal_remaining: ideal(input.firstDay + i) };
    applyUntil(input.midnights[i + 1]!);
    return {
      date,
      scope: { tasks: scopeTasks, estimated_minutes: scopeMinutes },
      completed: { tasks: doneTasks, estimated_minutes: doneMinutes },
      remaining: { tasks: scopeTasks - doneTasks, estimated_minutes: scopeMinutes - doneMinutes },
      ideal_remaining: ideal(input.firstDay + i),
    };
  });
  applyUntil(Infinity);
  const change = (m: Map<string, number>): ScopeChange => ({
    tasks: m.size,
    estimated_minutes: [...m.values()].reduce((a, b) => a + b, 0),
    task_ids: [...m.keys()],
  });
  return {
    completed: { tasks: doneTasks, estimated_minutes: doneMinutes },
    remaining: { tasks: scopeTasks - doneTasks, estimated_minutes: scopeMinutes - doneMinutes },
    added: change(added),
    removed: change(removed),
    burndown,
  };
}
