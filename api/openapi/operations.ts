/**
 * What the OpenAPI document says about each route beyond what the route itself declares.
 * The route declares its action (`action()`), public mark (`publicRoute()`) and validated
 * request parts (`validate()`); api/openapi/document.ts reads those from the app's routes.
 * This table adds the words: a summary, the success responses, and request bodies a handler
 * parses itself. Documenting a new route is one entry here; a test fails for a route of the
 * app without one, and for an entry without a route.
 */
import { z } from 'zod';
import type { Action } from '../../runtime/policy/actions';
import { signalPayloadSchemas } from '../routes/session-schemas';
import { SIGNAL_ACTIONS } from '../routes/sessions';

export interface OperationDoc {
  summary: string;
  description?: string;
  /** Success responses: status → description (JSON unless `contentType` says otherwise). */
  responses: Record<number, string | { description: string; contentType: string }>;
  /** A request body the handler parses itself, i.e. not through `validate()`. */
  body?: { schema: z.ZodType; contentType?: string; description?: string };
  /** Error statuses the operation adds to the usual ones (see document.ts). */
  errors?: readonly number[];
  /** For an action chosen by the request: which value names which action. */
  actionsByRequest?: Readonly<Record<string, Action>>;
}

const sse = (description: string) => ({ description, contentType: 'text/event-stream' });

/** Keyed `METHOD /path` with Hono path syntax, exactly as `app.routes` lists it. */
export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'GET /health': {
    summary: 'Readiness: Temporal, DynamoDB and Redis reachable',
    responses: { 200: 'ready', 503: 'a backing service is down' },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'metrics', contentType: 'text/plain' } },
  },
  'GET /v1/openapi.json': {
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: 'the document' },
  },
  'GET /v1/docs': {
    summary: 'A readable page of the operations in this document',
    responses: { 200: { description: 'HTML', contentType: 'text/html' } },
  },
  'POST /v1/sessions': {
    summary: 'Start a session (Idempotency-Key header makes retries safe)',
    responses: { 201: 'started', 200: 'the session an earlier request with the same key started' },
    errors: [422],
  },
  'GET /v1/sessions': {
    summary: "List the tenant's sessions",
    responses: { 200: 'a page of sessions' },
  },
  'GET /v1/sessions/:id': {
    summary: "A session's status",
    responses: { 200: 'the status' },
  },
  'GET /v1/sessions/:id/result': {
    summary: "A session's outcome, waiting up to `wait` seconds",
    responses: { 200: 'finished', 202: 'still running' },
  },
  'POST /v1/sessions/:id/signals/:name': {
    summary: 'Send a signal (approve, add-input, cancel, pause, resume, replan, raise-budget…)',
    description: 'The body is the payload of the signal `name`; the required action depends on it.',
    body: { schema: z.union(Object.values(signalPayloadSchemas)) },
    responses: { 202: 'accepted' },
    errors: [400, 409, 422],
    actionsByRequest: SIGNAL_ACTIONS,
  },
  'POST /v1/sessions/:id/plan/amendments': {
    summary: "Amend a session's plan (steps that have not started)",
    responses: { 200: 'the amended plan' },
    errors: [409, 422],
  },
  'GET /v1/sessions/:id/steps/:stepId/output': {
    summary: "One step's full output",
    responses: { 200: 'the output' },
  },
  'POST /v1/sessions/:id/cancel': {
    summary: 'Cancel a session',
    responses: { 202: 'accepted' },
  },
  'GET /v1/sessions/:id/events': {
    summary: 'Session status snapshots as server-sent events (Last-Event-ID resumes)',
    responses: { 200: sse('status events until `end`') },
  },
  'GET /v1/sessions/:id/stream': {
    summary: "Live text of the session's steps as server-sent events",
    responses: { 200: sse('step text events') },
  },
  'GET /v1/agents': {
    summary: 'Agents the tenant sees (platform agents with its own on top)',
    responses: { 200: 'the agents' },
  },
  'GET /v1/agents/:name': { summary: 'One agent', responses: { 200: 'the agent' } },
  'PUT /v1/agents/:name': {
    summary: "Register a tenant agent or the tenant's override of a platform agent",
    responses: { 201: 'first version', 200: 'a new version' },
    errors: [409],
  },
  'PUT /v1/platform/agents/:name': {
    summary: 'Register a platform agent every tenant sees',
    responses: { 201: 'first version', 200: 'a new version' },
    errors: [409],
  },
  'POST /v1/attachments': {
    summary: 'Upload a file (raw bytes) as an attachment',
    body: {
      schema: z.string().describe('the file bytes'),
      contentType: 'application/octet-stream',
      description: 'any supported media type; the type is sniffed from the bytes',
    },
    responses: { 201: 'stored' },
    errors: [413, 415, 422],
  },
  'POST /v1/attachments/fetch': {
    summary: 'Fetch a public URL as an attachment (SSRF-guarded)',
    responses: { 201: 'stored' },
    errors: [413, 415, 422, 502],
  },
  'GET /v1/sessions/:id/usage': {
    summary: "A session's model usage and cost",
    responses: { 200: 'totals and a page of entries' },
  },
  'GET /v1/usage': { summary: "The tenant's usage and cost", responses: { 200: 'totals' } },
  'GET /v1/audit': { summary: "A page of the tenant's audit trail", responses: { 200: 'entries' } },
  'GET /v1/audit/verify': {
    summary: "Walk the audit trail's hash chain",
    responses: { 200: 'the verification' },
  },
  'POST /v1/api-keys': {
    summary: 'Create an API key (shown once)',
    responses: { 201: 'the key and its record' },
  },
  'GET /v1/api-keys': { summary: "The tenant's API keys", responses: { 200: 'the keys' } },
  'DELETE /v1/api-keys/:keyId': {
    summary: 'Revoke an API key',
    responses: { 200: 'the revoked key' },
  },
  'POST /v1/webhooks': {
    summary: 'Register a webhook for session events (its whsec_ signing secret is shown once)',
    description:
      'Deliveries are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) and go to public addresses only.',
    responses: { 201: 'the webhook and its secret' },
    errors: [409, 503],
  },
  'GET /v1/webhooks': { summary: "The tenant's webhooks", responses: { 200: 'the webhooks' } },
  'DELETE /v1/webhooks/:webhookId': {
    summary: 'Delete a webhook',
    responses: { 200: 'the deleted webhook' },
  },
  'POST /v1/memories': {
    summary: 'Remember a fact, preference, decision or outcome in a scope',
    description:
      "A session-scope memory is a short-term note (Redis, with a TTL) unless it states a preference or is marked important (importance ≥ 0.8): then it is promoted to a long-term record at once (a preference to the user scope). Another user's memories need tenant-admin; tenant-scope memories are written by tenant admins.",
    responses: { 201: 'the memory, its tier, and why it was promoted (if it was)' },
  },
  'GET /v1/memories': {
    summary: "A user's memories, or with `query` the most relevant ones with their score parts",
    description:
      "Recall ranks by similarity + recency decay + importance (weights in config); `ranking.semantic: false` says the similarity is lexical (shared words), not by meaning. Only the caller's tenant is searched.",
    responses: { 200: 'the memories (with `score` parts when recalled)' },
  },
  'DELETE /v1/memories': {
    summary:
      "Forget all of a user's (`userId`) or a project's (`projectId`) memories: every tier and the vector index",
    description:
      "The right to be forgotten: a user's memories are all those they own (user and session memories, and shared ones they wrote), including expired records and the short-term notes of every session; a project's are its project-scope memories. Members forget their own; another user's or a project's need tenant-admin. Only the caller's tenant is touched (another tenant's user answers with nothing removed).",
    responses: { 200: 'how many records, notes and index rows were removed' },
  },
  'DELETE /v1/memories/:memoryId': {
    summary:
      'Forget a memory: removed from the long-term store, the short-term tier and the vector index',
    responses: { 200: 'what was removed from each tier' },
  },
  'POST /v1/auth/logout': {
    summary: "End the caller's own token (its jti joins the deny list until it expires)",
    responses: { 200: 'logged out' },
    errors: [422, 503],
  },
  'POST /v1/auth/revocations': {
    summary: 'Revoke a token of the tenant, by the token or by its jti and expiry',
    responses: { 201: 'the revocation' },
    errors: [422, 503],
  },
  'GET /v1/auth/revocations/:tokenId': {
    summary: 'A revocation of the tenant by token id (jti)',
    responses: { 200: 'the revocation' },
    errors: [503],
  },
};
