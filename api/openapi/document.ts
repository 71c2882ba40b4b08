/**
 * The OpenAPI 3.1 document of the app, built from its routes: each route's declared action
 * and public mark (api/policy/action.ts), the zod schemas its `validate()` middleware checks
 * (api/validation.ts) and its entry in `OPERATIONS`. Only mounted routes appear, so the
 * document describes this deployment; a route without an entry is left out (and fails the
 * contract test).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { declarationOf, type RouteDeclaration } from '../policy/action';
import { validationOf, type RouteValidation } from '../validation';
import { OPERATIONS, type OperationDoc } from './operations';

export interface AppRoute {
  method: string;
  path: string;
  handler: unknown;
}

export interface DescribedRoute {
  key: string;
  method: string;
  path: string;
  declaration?: RouteDeclaration;
  validations: RouteValidation[];
}

/** `METHOD path` of every endpoint of `routes` (middleware-only `ALL` entries skipped). */
export function describeRoutes(routes: readonly AppRoute[]): Map<string, DescribedRoute> {
  const described = new Map<string, DescribedRoute>();
  for (const route of routes) {
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path}`;
    const entry = described.get(key) ?? {
      key,
      method: route.method,
      path: route.path,
      validations: [],
    };
    entry.declaration ??= declarationOf(route.handler);
    const validation = validationOf(route.handler);
    if (validation) entry.validations.push(validation);
    described.set(key, entry);
  }
  return described;
}

/** `/v1/sessions/:id` → `/v1/sessions/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

const problemSchema = z
  .object({
    type: z.string().describe('a stable URI per kind of problem'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const ERROR_TEXT: Record<number, string> = {
  400: 'the request is not valid',
  401: 'no valid token or API key',
  403: 'the caller may not take this action',
  404: 'no such resource (or another tenant’s)',
  409: 'conflicts with the current state',
  413: 'request body too large',
  415: 'unsupported media type',
  422: 'the request is well-formed but refused',
  429: 'a quota or rate limit was reached (Retry-After, RateLimit headers)',
  500: 'internal error (logged with the request id)',
  502: 'an upstream fetch failed',
  503: 'a backing service is unavailable',
};

function errorStatuses(route: DescribedRoute, doc: OperationDoc): number[] {
  const statuses = new Set<number>([500, ...(doc.errors ?? [])]);
  if (route.validations.length > 0 || doc.body) statuses.add(400);
  if (route.declaration?.kind === 'action') {
    for (const status of [401, 403, 429]) statuses.add(status);
    if (route.path.includes(':')) statuses.add(404);
  }
  return [...statuses].sort((left, right) => left - right);
}

const schemaOf = (route: DescribedRoute, target: string): z.ZodType | undefined =>
  route.validations.find((validation) => validation.target === target)?.schema;

function requestOf(route: DescribedRoute, doc: OperationDoc) {
  const names = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1] as string);
  const query = schemaOf(route, 'query');
  const json = schemaOf(route, 'json');
  const body = json
    ? { content: { 'application/json': { schema: json } }, required: true }
    : doc.body
      ? {
          content: { [doc.body.contentType ?? 'application/json']: { schema: doc.body.schema } },
          required: true,
          ...(doc.body.description ? { description: doc.body.description } : {}),
        }
      : undefined;
  return {
    ...(names.length
      ? { params: z.object(Object.fromEntries(names.map((name) => [name, z.string()]))) }
      : {}),
    ...(query instanceof z.ZodObject ? { query } : {}),
    ...(body ? { body } : {}),
  };
}

function responsesOf(route: DescribedRoute, doc: OperationDoc) {
  const responses: Record<string, object> = {};
  for (const [status, response] of Object.entries(doc.responses)) {
    const { description, contentType } =
      typeof response === 'string'
        ? { description: response, contentType: 'application/json' }
        : response;
    responses[status] = {
      description,
      content: {
        [contentType]: {
          schema: contentType === 'application/json' ? z.object({}).loose() : z.string(),
        },
      },
    };
  }
  for (const status of errorStatuses(route, doc)) {
    responses[String(status)] ??= {
      description: ERROR_TEXT[status] ?? 'error',
      content: { 'application/problem+json': { schema: problemSchema } },
    };
  }
  return responses;
}

const CALLER_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

/** The OpenAPI 3.1 document of `routes` (the app's, once every route is mounted). */
export function openApiDocument(routes: readonly AppRoute[], version = '1.0.0'): object {
  const document = new OpenAPIHono();
  const registry = document.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An OIDC / dev JWT, or an API key (`tdk_…`) as the bearer token',
  });
  registry.registerComponent('securitySchemes', 'apiKeyAuth', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
  });
  for (const route of describeRoutes(routes).values()) {
    const doc = OPERATIONS[route.key];
    if (!doc) continue;
    const declaration = route.declaration;
    const isPublic = declaration?.kind === 'public';
    const segments = route.path.split('/').filter((segment) => segment && !segment.startsWith(':'));
    registry.registerPath({
      method: route.method.toLowerCase() as 'get',
      path: openApiPath(route.path),
      // `post /v1/sessions/:id/cancel` → `post_v1_sessions_id_cancel`: unique per method and path.
      operationId: `${route.method.toLowerCase()}${route.path}`.replace(/[^A-Za-z0-9]+/g, '_'),
      tags: [segments[0] === 'v1' ? (segments[1] ?? 'v1') : (segments[0] ?? 'root')],
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      security: isPublic ? [] : CALLER_SECURITY,
      request: requestOf(route, doc),
      responses: responsesOf(route, doc),
      'x-required-action': isPublic ? null : (declaration?.action ?? null),
      ...(declaration?.kind === 'action' ? { 'x-resource': declaration.resource } : {}),
      ...(doc.actionsByRequest ? { 'x-required-actions-by-request': doc.actionsByRequest } : {}),
    });
  }
  return document.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'T-Developer API',
      version,
      description:
        'Every error is `application/problem+json` (RFC 9457). `x-required-action` names the Cedar action an operation authorises (null: public).',
    },
  });
}
