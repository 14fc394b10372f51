import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import {
  CreateWebhookBody,
  DeliveryPath,
  DeliverySchema,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  RotateSecretBody,
  UpdateWebhookBody,
  WebhookSchema,
  WebhookWithSecretSchema,
} from './webhook.schemas.ts';

const tags = ['Webhooks'];

export function webhookRoutes(app: App, deps: Deps): void {
  const svc = deps.services.webhooks;

  app.post('/v1/webhooks', {
    schema: {
      operationId: 'createWebhook',
      summary: 'Create a webhook on a workspace or one of its projects (its signing secret is shown once)',
      description:
        'Deliveries are POSTed as JSON and signed per the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature), ' +
        'retried with jitter immediately, after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, and listed under the webhook\'s deliveries.',
      tags,
      body: CreateWebhookBody,
      response: withErrors({ 201: One(WebhookWithSecretSchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.body), { containsSecret: true }) }));

  app.get('/v1/webhooks', {
    schema: { operationId: 'listWebhooks', summary: 'List the webhooks you manage', tags, querystring: ListWebhooksQuery, response: withErrors({ 200: List(WebhookSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.query)));

  app.get('/v1/webhooks/:id', {
    schema: { operationId: 'getWebhook', summary: 'Get a webhook', tags, params: PathId, response: withErrors({ 200: One(WebhookSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.webhook, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/webhooks/:id', {
      schema: {
        operationId: method === 'put' ? 'updateWebhook' : 'patchWebhook',
        summary: 'Update a webhook (fields not sent are unchanged); active: false disables it, true enables it again',
        tags,
        params: PathId,
        body: UpdateWebhookBody,
        response: withErrors({ 200: One(WebhookSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.webhook, r.version);
    });
  }

  app.delete('/v1/webhooks/:id', {
    schema: { operationId: 'deleteWebhook', summary: 'Delete a webhook and its delivery log (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));

  app.post('/v1/webhooks/:id/secret/rotate', {
    schema: {
      operationId: 'rotateWebhookSecret',
      summary: 'Replace the signing secret (shown once); the old one keeps signing alongside it for 24 hours unless told otherwise',
      tags,
      params: PathId,
      body: RotateSecretBody,
      response: withErrors({ 200: One(WebhookWithSecretSchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.rotateSecret(tx, req.principal!, req.params.id, req.body ?? {}), { containsSecret: true }) }));

  app.post('/v1/webhooks/:id/test', {
    schema: { operationId: 'pingWebhook', summary: 'Send a ping event to the webhook now (its delivery is in the log)', tags, params: PathId, response: withErrors({ 202: One(DeliverySchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 202, (tx) => svc.ping(tx, req.principal!, req.params.id)) }));

  app.get('/v1/webhooks/:id/deliveries', {
    schema: { operationId: 'listWebhookDeliveries', summary: "The webhook's deliveries, newest first, each with its attempts", tags, params: PathId, querystring: ListDeliveriesQuery, response: withErrors({ 200: List(DeliverySchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.deliveries(req.principal!, req.params.id, req.query)));

  app.get('/v1/webhooks/:id/deliveries/:delivery_id', {
    schema: { operationId: 'getWebhookDelivery', summary: 'One delivery, with its attempts', tags, params: DeliveryPath, response: withErrors({ 200: One(DeliverySchema) }) },
  }, async (req) => ({ data: await svc.delivery(req.principal!, req.params.id, req.params.delivery_id) }));

  app.post('/v1/webhooks/:id/deliveries/:delivery_id/redeliver', {
    schema: {
      operationId: 'redeliverWebhookDelivery',
      summary: 'Send a delivery again now, with the same webhook-id (within 30 days of it)',
      tags,
      params: DeliveryPath,
      response: withErrors({ 202: One(DeliverySchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 202, (tx) => svc.redeliver(tx, req.principal!, req.params.id, req.params.delivery_id)) }));
}
