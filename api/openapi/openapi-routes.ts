/**
 * `GET /v1/openapi.json` and `GET /v1/docs`, public. The document is built on the first
 * request, when every route of the app is mounted, and kept.
 */
import { Hono } from 'hono';
import { publicRoute } from '../policy/action';
import { docsPage } from './docs-page';
import { openApiDocument, type AppRoute } from './document';

/** Routes relative to `/v1`; `routes` lists the app's routes when called. */
export function openApiRoutes(routes: () => readonly AppRoute[]) {
  let document: ReturnType<typeof openApiDocument> | undefined;
  const current = () => (document ??= openApiDocument(routes()));
  return new Hono()
    .get('/openapi.json', publicRoute(), (context) => context.json(current()))
    .get('/docs', publicRoute(), (context) =>
      context.html(docsPage(current() as Parameters<typeof docsPage>[0])),
    );
}
