import type { Db } from '../../db/database.ts';
import type { Webhook } from '../../db/schema.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize, workspacesWhere } from '../../access/access.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { resolveSort } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { iso } from '../../lib/time.ts';
import type { ProjectService } from '../projects/project.service.ts';
import { newWebhookSecret } from './signature.ts';
import { TargetRefused, type WebhookTargets } from './webhook-targets.ts';
import { presentDelivery, presentWebhook, presentWebhookEvent } from './webhook.presenter.ts';
import { webhookRepository } from './webhook.repository.ts';
import type {
  CreateWebhookInput,
  ListDeliveriesInput,
  ListWebhooksInput,
  RotateSecretInput,
  UpdateWebhookInput,
  WEBHOOK_SORTS,
} from './webhook.schemas.ts';

const SORTS = { created_at: 'created_at', updated_at: 'updated_at' } as const satisfies Record<(typeof WEBHOOK_SORTS)[number], string>;

const HOUR_MS = 60 * 60 * 1000;
/** How long a rotated-out secret keeps signing alongside the new one, unless the rotation says. */
const DEFAULT_PREVIOUS_SECRET_HOURS = 24;
/** A delivery can be sent again for this long after it was made. */
export const REDELIVERY_DAYS = 30;

export interface WebhookServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  box: SecretBox;
  targets: WebhookTargets;
  projects: ProjectService;
  /** Wakes this instance's delivery worker (a ping or a redelivery is due now). */
  wake: () => void;
}

export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  private async load(db: Db, p: Principal, id: string, lock = false): Promise<Webhook> {
    const w = await webhookRepository(db).find(visibleWorkspaceIds(p), id, lock);
    if (!w) throw errors.notFound('Webhook');
    authorize(p, w.workspace_id, 'webhook:manage', 'Webhook', w.project_id ?? undefined);
    return w;
  }

  /** The URL, or a 422 naming `url` saying why it cannot be a target. */
  private async target(url: string): Promise<string> {
    try {
      return (await this.deps.targets.check(url)).href;
    } catch (err) {
      if (err instanceof TargetRefused) throw errors.unprocessable(err.message, 'url', 'INVALID_WEBHOOK_URL');
      throw err;
    }
  }

  /** Its event, with the URL cut to its origin (see presentWebhookEvent), in `changes` too. */
  private async event(tx: Db, p: Principal, w: Webhook, type: string, before?: Webhook) {
    const data = presentWebhookEvent(w);
    const changes = before ? diff(presentWebhookEvent(before), data) : undefined;
    await recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: w.workspace_id, projectId: w.project_id, type, resourceType: 'webhook', resourceId: w.id, data, changes });
  }

  async create(tx: Db, p: Principal, input: CreateWebhookInput) {
    let workspaceId = input.workspace_id;
    let projectId: string | null = null;
    if (input.project_id !== undefined) {
      const project = await this.deps.projects.load(tx, p, input.project_id, 'webhook:manage');
      if (workspaceId !== undefined && workspaceId !== project.workspace_id) {
        throw errors.badRequest('`project_id` names a project of another workspace than `workspace_id`', 'project_id', 'PARAMETERS_CONFLICT');
      }
      workspaceId = project.workspace_id;
      projectId = project.id;
    } else if (workspaceId === undefined) {
      throw errors.badRequest('Give the `workspace_id` or the `project_id` the webhook watches', 'workspace_id', 'PARAMETER_REQUIRED');
    } else {
      authorize(p, workspaceId, 'webhook:manage', 'Workspace');
    }
    const url = await this.target(input.url);
    const secret = input.secret ?? newWebhookSecret();
    const now = this.deps.clock.now();
    const w = await webhookRepository(tx).insert({
      id: this.deps.ids.next('wh'),
      workspace_id: workspaceId,
      project_id: projectId,
      url,
      events: input.events,
      description: input.description ?? '',
      secret_sealed: this.deps.box.seal(secret),
      previous_secret_sealed: null,
      previous_secret_expires_at: null,
      disabled_reason: null,
      failing_since: null,
      created_by: p.userId,
      created_at: now,
      updated_at: now,
    });
    await this.event(tx, p, w, 'webhook.created');
    return { ...presentWebhook(w), secret };
  }

  async list(p: Principal, q: ListWebhooksInput) {
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'created_at', direction: 'asc' });
    let workspaceIds = workspacesWhere(p, 'webhook:manage');
    if (q.workspace_id !== undefined) workspaceIds = workspaceIds.filter((id) => id === q.workspace_id);
    const filter = { workspaceIds, projectId: q.project_id, onlyProject: p.projectId ?? undefined };
    const { rows, total } = await webhookRepository(this.deps.db).list(filter, sort, page.perPage, page.offset);
    return { page, total, items: rows.map(presentWebhook) };
  }

  async get(p: Principal, id: string) {
    const w = await this.load(this.deps.db, p, id);
    return { webhook: presentWebhook(w), version: w.version };
  }

  async update(tx: Db, p: Principal, id: string, input: UpdateWebhookInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, true);
    checkIfMatch(ifMatch, before.version);
    const changes: Parameters<ReturnType<typeof webhookRepository>['update']>[1] = {};
    if (input.url !== undefined) changes.url = await this.target(input.url);
    if (input.events !== undefined) changes.events = input.events;
    if (input.description !== undefined) changes.description = input.description;
    if (input.active === false && before.active) Object.assign(changes, { active: false, disabled_reason: 'by_request' });
    // Enabled again: its failures so far no longer count towards disabling it.
    if (input.active === true && !before.active) Object.assign(changes, { active: true, disabled_reason: null, failing_since: null });
    const after = await webhookRepository(tx).update(id, changes, this.deps.clock.now());
    await this.event(tx, p, after, 'webhook.updated', before);
    if (after.active && !before.active) this.deps.wake();
    return { webhook: presentWebhook(after), version: after.version };
  }

  /** Idempotent; its deliveries go with it. */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const found = await webhookRepository(tx).find(visibleWorkspaceIds(p), id, true);
    if (!found) return { id, deleted: true as const };
    authorize(p, found.workspace_id, 'webhook:manage', 'Webhook', found.project_id ?? undefined);
    checkIfMatch(ifMatch, found.version);
    await webhookRepository(tx).delete(id);
    await this.event(tx, p, found, 'webhook.deleted');
    return { id, deleted: true as const };
  }

  /**
   * A new signing secret (given, or generated), shown once. The one it replaces keeps signing
   * alongside it (a second signature in webhook-signature) for `previous_expires_in_hours`, so
   * that receivers can switch without losing a delivery.
   */
  async rotateSecret(tx: Db, p: Principal, id: string, input: RotateSecretInput) {
    const before = await this.load(tx, p, id, true);
    const now = this.deps.clock.now();
    const hours = input.previous_expires_in_hours ?? DEFAULT_PREVIOUS_SECRET_HOURS;
    const secret = input.secret ?? newWebhookSecret();
    const after = await webhookRepository(tx).update(
      id,
      {
        secret_sealed: this.deps.box.seal(secret),
        previous_secret_sealed: hours > 0 ? before.secret_sealed : null,
        previous_secret_expires_at: hours > 0 ? new Date(now.getTime() + hours * HOUR_MS) : null,
      },
      now,
    );
    await this.event(tx, p, after, 'webhook.updated', before);
    return { ...presentWebhook(after), secret };
  }

  /** Queues a `ping` to the endpoint, delivered, signed and logged like any event. */
  async ping(tx: Db, p: Principal, id: string) {
    const w = await this.load(tx, p, id);
    if (!w.active) throw errors.conflict('The webhook is disabled; enable it (active: true) to send to it', 'id', { disabled_reason: w.disabled_reason }, 'WEBHOOK_DISABLED');
    const now = this.deps.clock.now();
    const deliveryId = this.deps.ids.next('msg');
    const payload = {
      id: deliveryId,
      type: 'ping',
      occurred_at: iso(now),
      workspace_id: w.workspace_id,
      project_id: w.project_id,
      resource_type: 'webhook',
      resource_id: w.id,
      actor: { user_id: p.userId, key_id: p.keyId },
      data: presentWebhook(w),
      changes: null,
    };
    const body = JSON.stringify(payload);
    const delivery = { id: deliveryId, webhook_id: w.id, event_id: null, event_type: 'ping', payload: body, status: 'pending' as const, attempts: 0, next_attempt_at: now, lease_until: null, created_at: now, updated_at: now };
    await webhookRepository(tx).insertDeliveries([delivery]);
    this.deps.wake();
    return presentDelivery(delivery, []);
  }

  async deliveries(p: Principal, id: string, q: ListDeliveriesInput) {
    const w = await this.load(this.deps.db, p, id);
    const page = toPage(q);
    const repo = webhookRepository(this.deps.db);
    const { rows, total } = await repo.deliveries(w.id, q.status, page.perPage, page.offset);
    const attempts = await repo.attempts(rows.map((r) => r.id));
    return { page, total, items: rows.map((d) => presentDelivery(d, attempts.get(d.id)!)) };
  }

  async delivery(p: Principal, id: string, deliveryId: string) {
    const w = await this.load(this.deps.db, p, id);
    const repo = webhookRepository(this.deps.db);
    const d = await repo.findDelivery(w.id, deliveryId);
    if (!d) throw errors.notFound('Delivery');
    return presentDelivery(d, (await repo.attempts([d.id])).get(d.id)!);
  }

  /** Removes the finished deliveries that can no longer be sent again (their attempts go with them). */
  async pruneDeliveries(): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - REDELIVERY_DAYS * 24 * HOUR_MS);
    const r = await this.deps.db.deleteFrom('webhook_deliveries').where('status', '<>', 'pending').where('created_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }

  /** Sends a delivery again, with the same webhook-id, within 30 days of its making. */
  async redeliver(tx: Db, p: Principal, id: string, deliveryId: string) {
    const w = await this.load(tx, p, id);
    const repo = webhookRepository(tx);
    const d = await repo.findDelivery(w.id, deliveryId, true);
    if (!d) throw errors.notFound('Delivery');
    const now = this.deps.clock.now();
    if (now.getTime() - d.created_at.getTime() > REDELIVERY_DAYS * 24 * HOUR_MS) {
      throw errors.unprocessable(`Deliveries can be sent again for ${REDELIVERY_DAYS} days; this one is older`, 'delivery_id', 'REDELIVERY_EXPIRED');
    }
    if (!w.active) throw errors.conflict('The webhook is disabled; enable it (active: true) to send to it', 'id', { disabled_reason: w.disabled_reason }, 'WEBHOOK_DISABLED');
    const after = await repo.redeliver(d.id, now);
    this.deps.wake();
    return presentDelivery(after, (await repo.attempts([d.id])).get(d.id)!);
  }
}
