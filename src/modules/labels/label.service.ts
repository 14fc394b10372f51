import type { Db } from '../../db/database.ts';
import type { Label, Task } from '../../db/schema.ts';
import { diff, eventRow, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { AppError, errors } from '../../http/errors.ts';
import { actorOf, visibleWorkspaceIds, type Actor, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { resolveSort } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import { writeTaskChanges } from '../tasks/task.service.ts';
import { presentLabel } from './label.presenter.ts';
import { labelRepository } from './label.repository.ts';
import type { LABEL_SORTS} from './label.schemas.ts';
import { type CreateLabelInput, type ListLabelsInput, type UpdateLabelInput } from './label.schemas.ts';

const SORTS = { name: 'name', created_at: 'created_at', updated_at: 'updated_at' } as const satisfies Record<(typeof LABEL_SORTS)[number], string>;

/** The colours a label gets when none is given: one of these, by its name, so that it is stable. */
const PALETTE = ['#6b7280', '#ef4444', '#f97316', '#eab308', '#22c55e', '#14b8a6', '#3b82f6', '#6366f1', '#a855f7', '#ec4899'];

function defaultColor(name: string): string {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

export interface LabelContext {
  ids: Ids;
  actor: Actor;
  at: Date;
}

/**
 * The labels tasks are given, by name: each name as the workspace spells its label (whatever the
 * case it was given in), position by position. A name the workspace has no label for creates the
 * label (with its label.created event), as GitHub and GitLab do. The labels stay locked (FOR KEY
 * SHARE) until the caller's transaction ends.
 */
export async function canonicalLabels(tx: Db, ctx: LabelContext, workspaceId: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const repo = labelRepository(tx);
  const wanted = [...names];
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = new Map((await repo.byNames(workspaceId, wanted)).map((r) => [r.k, r.name]));
    const missing = [...new Set(wanted.filter((_, i) => !found.has(i + 1)))];
    if (missing.length === 0) return wanted.map((_, i) => found.get(i + 1)!);
    const created = await repo.insertMissing(
      missing.map((name) => ({ id: ctx.ids.next('lbl'), workspace_id: workspaceId, name, color: defaultColor(name), created_at: ctx.at, updated_at: ctx.at })),
    );
    if (created.length > 0) {
      await tx
        .insertInto('events')
        .values(created.map((l) => eventRow(ctx.ids, ctx.actor, { workspaceId, type: 'label.created', resourceType: 'label', resourceId: l.id, data: presentLabel(l) })))
        .execute();
    }
    // Another transaction may have created some of them meanwhile: the next read sees them.
  }
  throw new AppError(409, 'CONCURRENT_UPDATE', 'The labels changed while the request ran; retry it');
}

/** A task's labels, by name: as canonicalLabels, each once, in the order given. */
export async function resolveLabels(tx: Db, ctx: LabelContext, workspaceId: string, names: readonly string[]): Promise<string[]> {
  return [...new Set(await canonicalLabels(tx, ctx, workspaceId, names))];
}

export interface LabelServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
}

export class LabelService {
  constructor(private readonly deps: LabelServiceDeps) {}

  private async load(db: Db, p: Principal, id: string, action: 'label:read' | 'label:write' | 'label:delete', lock = false): Promise<Label> {
    const label = await labelRepository(db).find(visibleWorkspaceIds(p), id, lock);
    if (!label) throw errors.notFound('Label');
    authorize(p, label.workspace_id, action, 'Label');
    return label;
  }

  async list(p: Principal, workspaceId: string, q: ListLabelsInput) {
    authorize(p, workspaceId, 'label:read', 'Workspace');
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'name', direction: 'asc' });
    const { rows, total } = await labelRepository(this.deps.db).list(workspaceId, sort, page.perPage, page.offset);
    return { page, total, items: rows.map(presentLabel) };
  }

  async get(p: Principal, id: string) {
    const label = await this.load(this.deps.db, p, id, 'label:read');
    return { label: presentLabel(label), version: label.version };
  }

  async create(tx: Db, p: Principal, workspaceId: string, input: CreateLabelInput) {
    authorize(p, workspaceId, 'label:write', 'Workspace');
    const now = this.deps.clock.now();
    const label = await labelRepository(tx).insert({
      id: this.deps.ids.next('lbl'),
      workspace_id: workspaceId,
      name: input.name,
      color: (input.color ?? defaultColor(input.name)).toLowerCase(),
      description: input.description ?? '',
      created_at: now,
      updated_at: now,
    });
    const data = presentLabel(label);
    await this.event(tx, p, label, 'label.created', data);
    return data;
  }

  /** A rename reaches every task that carries the label (each with its task.updated event). */
  async update(tx: Db, p: Principal, id: string, input: UpdateLabelInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'label:write', true);
    checkIfMatch(ifMatch, before.version);
    const changes: Partial<Pick<Label, 'name' | 'color' | 'description'>> = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.color !== undefined) changes.color = input.color.toLowerCase();
    if (input.description !== undefined) changes.description = input.description;
    const now = this.deps.clock.now();
    const after = await labelRepository(tx).update(id, changes, now);
    if (after.name !== before.name) {
      await this.retag(tx, p, before, now, (labels) => labels.map((l) => (l === before.name ? after.name : l)));
    }
    const data = presentLabel(after);
    await this.event(tx, p, after, 'label.updated', data, diff(presentLabel(before), data));
    return { label: data, version: after.version };
  }

  /** Idempotent. The label leaves every task that carried it (each with its task.updated event). */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const found = await labelRepository(tx).find(visibleWorkspaceIds(p), id, true);
    if (!found) return { id, deleted: true as const };
    authorize(p, found.workspace_id, 'label:delete', 'Label');
    checkIfMatch(ifMatch, found.version);
    await this.retag(tx, p, found, this.deps.clock.now(), (labels) => labels.filter((l) => l !== found.name));
    await labelRepository(tx).delete(id);
    await this.event(tx, p, found, 'label.deleted', presentLabel(found));
    return { id, deleted: true as const };
  }

  /** Rewrites the labels of the workspace's tasks that carry `label`, with their events. */
  private async retag(tx: Db, p: Principal, label: Label, at: Date, rewrite: (labels: string[]) => string[]) {
    const tasks = await labelRepository(tx).tasksWith(label.workspace_id, label.name);
    if (tasks.length === 0) return;
    const changed = tasks.map((before): { before: Task; after: Task } => ({ before, after: { ...before, labels: [...new Set(rewrite(before.labels))], version: before.version + 1, updated_at: at } }));
    await writeTaskChanges(tx, this.deps.ids, p, changed, 'task.updated', at);
  }

  private event(tx: Db, p: Principal, l: Label, type: string, data: unknown, changes?: Record<string, { from: unknown; to: unknown }>) {
    return recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: l.workspace_id, type, resourceType: 'label', resourceId: l.id, data, changes });
  }
}
