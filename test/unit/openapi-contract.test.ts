/**
 * The OpenAPI contract: the document served at /v1/openapi.json lists exactly the app's
 * routes, each with its Cedar action, security, validated request schemas and problem-body
 * errors; and every call the CLI makes exists in it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import {
  OPERATIONS,
  describeRoutes,
  openApiDocument,
  openApiPath,
  type AppRoute,
} from '../../api/openapi';
import { createApiKeySchema } from '../../api/routes/api-keys';
import { fullApp } from '../support/full-app';

interface Operation {
  'x-required-action': string | null;
  'x-required-actions-by-request'?: Record<string, string>;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** `METHOD /openapi/path` of each operation of the document. */
const documentedKeys = (document: Document): string[] =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );

/** Routes the document lacks, and operations it lists that the app does not have. */
function contractGaps(routes: readonly AppRoute[], document: Document) {
  const routeKeys = [...describeRoutes(routes).values()].map(
    (route) => `${route.method} ${openApiPath(route.path)}`,
  );
  const documented = documentedKeys(document);
  return {
    undocumented: routeKeys.filter((key) => !documented.includes(key)),
    missingRoutes: documented.filter((key) => !routeKeys.includes(key)),
  };
}

describe('the OpenAPI document', () => {
  const app = fullApp();
  let document: Document;

  beforeAll(async () => {
    // Public: no Authorization header.
    const response = await app.request('/v1/openapi.json');
    expect(response.status).toBe(200);
    document = (await response.json()) as Document;
  });

  test('is OpenAPI 3.1 and lists exactly the routes of the app', () => {
    expect(document.openapi).toBe('3.1.0');
    const routes = describeRoutes(app.routes);
    expect(routes.size).toBeGreaterThanOrEqual(27);
    expect(contractGaps(app.routes, document)).toEqual({ undocumented: [], missingRoutes: [] });
    // No entry of the table outlives its route.
    expect(Object.keys(OPERATIONS).filter((key) => !routes.has(key))).toEqual([]);
  });

  test('fails for a route without a document entry, and for an entry without a route', () => {
    const extended = new Hono();
    extended.route('/', fullApp());
    extended.get('/v1/not-documented', (context) => context.text('x'));
    expect(contractGaps(extended.routes, openApiDocument(extended.routes) as Document)).toEqual({
      undocumented: ['GET /v1/not-documented'],
      missingRoutes: [],
    });
    const withoutKeys = app.routes.filter((route) => !route.path.startsWith('/v1/api-keys'));
    expect(contractGaps(withoutKeys, document).missingRoutes.sort()).toEqual([
      'DELETE /v1/api-keys/{keyId}',
      'GET /v1/api-keys',
      'POST /v1/api-keys',
    ]);
  });

  test('each operation names the action its route declares, and its security', () => {
    for (const route of describeRoutes(app.routes).values()) {
      const operation = document.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(operation).toBeDefined();
      if (route.declaration?.kind === 'public') {
        expect([route.key, operation?.['x-required-action'], operation?.security]).toEqual([
          route.key,
          null,
          [],
        ]);
        continue;
      }
      expect([route.key, operation?.['x-required-action']]).toEqual([
        route.key,
        route.declaration?.action,
      ]);
      expect(operation?.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
      for (const status of ['401', '403', '429', '500']) {
        expect(Object.keys(operation?.responses[status]?.content ?? {})).toEqual([
          'application/problem+json',
        ]);
      }
    }
    expect(document.paths['/v1/sessions/{id}/signals/{name}']?.post).toMatchObject({
      'x-required-action': 'by-request',
      'x-required-actions-by-request': { approve: 'session:approve', cancel: 'session:cancel' },
    });
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual([
      'apiKeyAuth',
      'bearerAuth',
    ]);
  });

  test('request schemas are the zod schemas the routes validate with', () => {
    const create = document.paths['/v1/api-keys']?.post;
    const schema = create?.requestBody?.content['application/json']?.schema as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(
      Object.keys(createApiKeySchema.shape).sort(),
    );
    expect(schema.required.sort()).toEqual(['name', 'roles']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.roles).toMatchObject({
      items: { enum: expect.arrayContaining(['viewer', 'tenant-admin']) },
    });
    const list = document.paths['/v1/sessions']?.get;
    expect(
      list?.parameters?.map((parameter) => `${parameter.in}:${parameter.name}`).sort(),
    ).toEqual(['query:cursor', 'query:limit', 'query:status']);
    expect(document.paths['/v1/sessions/{id}/cancel']?.post?.parameters).toEqual([
      expect.objectContaining({ in: 'path', name: 'id', required: true }),
    ]);
    expect(create?.responses['400']?.content).toHaveProperty('application/problem+json');
  });

  test('the docs page lists every operation with its action, without scripts or styles', async () => {
    const response = await app.request('/v1/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    for (const key of documentedKeys(document)) expect(html).toContain(`<code>${key}</code>`);
    expect(html).toContain('<code>api-key:manage</code>');
    expect(html).not.toMatch(/<script|<style|<link/);
  });
});

/** `METHOD /path` of every call in the CLI's sources (template parts become `{param}`). */
function cliCalls(): string[] {
  const directory = join(__dirname, '../../cli');
  const calls: string[] = [];
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(directory, file), 'utf8');
    const normalise = (path: string) =>
      path
        .replace(/^\$\{this\.baseUrl\}/, '')
        .replace(/\$\{[^}]*$/, '') // a conditional query suffix (a nested template)
        .replace(/\?.*$/, '')
        .replace(/\$\{[^}]+\}/g, '{param}');
    for (const match of source.matchAll(
      /request(?:<[^(]*?>)?\(\s*'(GET|POST|PUT|DELETE)',\s*[`'"]([^`'"]+)[`'"]/g,
    )) {
      calls.push(`${match[1]} ${normalise(match[2] as string)}`);
    }
    for (const match of source.matchAll(/fetch\(\s*`([^`]+)`,\s*\{\s*(?:method: '(\w+)')?/g)) {
      calls.push(`${match[2] ?? 'GET'} ${normalise(match[1] as string)}`);
    }
  }
  // `request()` itself fetches `${baseUrl}${path}`: its callers are the calls above.
  return calls.filter((call) => call !== 'GET {param}');
}

describe("the CLI's client against the document", () => {
  test('every path and method the CLI calls exists in the document', () => {
    const document = openApiDocument(fullApp().routes) as Document;
    const operations = documentedKeys(document).map((key) => {
      const [method, path] = key.split(' ') as [string, string];
      return { method, pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`) };
    });
    const calls = cliCalls();
    // The CLI's calls: start, status, list, signals, cancel, usage, events, upload, audit, keys.
    expect(calls.length).toBeGreaterThanOrEqual(15);
    expect(calls).toEqual(
      expect.arrayContaining(['POST /v1/attachments', 'GET /v1/sessions/{param}/events']),
    );
    const unknown = calls.filter((call) => {
      const [method, path] = call.split(' ') as [string, string];
      return !operations.some(
        (operation) => operation.method === method && operation.pattern.test(path),
      );
    });
    expect(unknown).toEqual([]);
  });

  test('a call to a path the document lacks is caught', () => {
    const document = openApiDocument(
      fullApp().routes.filter((route) => !route.path.endsWith('/cancel')),
    ) as Document;
    expect(documentedKeys(document)).not.toContain('POST /v1/sessions/{id}/cancel');
    expect(cliCalls()).toContain('POST /v1/sessions/{param}/cancel');
  });
});

test('operation ids are unique identifiers', () => {
  const document = openApiDocument(fullApp().routes) as {
    paths: Record<string, Record<string, { operationId: string }>>;
  };
  const ids = Object.values(document.paths).flatMap((methods) =>
    Object.values(methods).map((operation) => operation.operationId),
  );
  expect(ids.every((id) => /^[A-Za-z0-9_]+$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toContain('post_v1_sessions_id_cancel');
});
