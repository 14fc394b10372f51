import type { Webhook, WebhookAttempt, WebhookDelivery } from '../../db/schema.ts';
import { iso, isoOrNull } from '../../lib/time.ts';

export function presentWebhook(w: Webhook) {
  return {
    id: w.id,
    workspace_id: w.workspace_id,
    project_id: w.project_id,
    url: w.url,
    events: w.events,
    description: w.description,
    active: w.active,
    disabled_reason: w.disabled_reason,
    rotation_ends_at: isoOrNull(w.previous_secret_expires_at),
    created_by: w.created_by,
    created_at: iso(w.created_at),
    updated_at: iso(w.updated_at),
  };
}

/**
 * A URL as events show it: its origin only. Every member reads the change feed, and a receiver's
 * path or query often holds its own secret (a Slack or Teams incoming-webhook URL is one).
 */
export function redactedUrl(url: string): string {
  const u = new URL(url);
  return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
}

/** A webhook as its events (webhook.created, .updated, .deleted, .disabled) carry it. */
export function presentWebhookEvent(w: Webhook) {
  return { ...presentWebhook(w), url: redactedUrl(w.url) };
}

export function presentDelivery(d: WebhookDelivery, attempts: WebhookAttempt[]) {
  return {
    id: d.id,
    webhook_id: d.webhook_id,
    event_id: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? isoOrNull(d.next_attempt_at) : null,
    created_at: iso(d.created_at),
    attempt_log: attempts.map((a) => ({
      attempted_at: iso(a.attempted_at),
      status_code: a.status_code,
      duration_ms: a.duration_ms,
      response_excerpt: a.response_excerpt,
      error: a.error,
    })),
  };
}
