import { SpanKind, SpanStatusCode, context as otelContext, propagation } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { tracer } from '../../runtime/tracing';

/**
 * One server span per request (`POST /v1/sessions`), a child of the caller's `traceparent` when
 * it sent one, active while the request is handled: the Temporal client, DynamoDB and Redis
 * spans and the request's log lines join its trace. Named by the matched route, not the path
 * (no ids in span names); 5xx answers mark it failed. Mount it only when tracing is on.
 */
export function traceRequests(): MiddlewareHandler {
  return async function traceRequestsMiddleware(context, next) {
    const parent = propagation.extract(otelContext.active(), context.req.raw.headers, {
      get: (headers, key) => headers.get(key) ?? undefined,
      keys: (headers) => [...headers.keys()],
    });
    const method = context.req.method;
    await tracer().startActiveSpan(
      `${method} ${context.req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, 'url.path': context.req.path },
      },
      parent,
      async (span) => {
        try {
          await next();
          const route = routePath(context, -1);
          span.updateName(`${method} ${route}`);
          span.setAttribute('http.route', route);
          span.setAttribute('http.response.status_code', context.res.status);
          if (context.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        } finally {
          span.end();
        }
      },
    );
  };
}
