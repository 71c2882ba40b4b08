import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../runtime/logger';

export interface RequestLoggerOptions {
  logger: Logger;
}

/** One structured log line per request: method, path, status, duration, request id. */
export function requestLogger(options: RequestLoggerOptions): MiddlewareHandler {
  return async function requestLoggerMiddleware(context, next) {
    const started = performance.now();
    await next();
    options.logger.info(
      {
        requestId: context.get('requestId'),
        method: context.req.method,
        path: context.req.path,
        status: context.res.status,
        durationMs: Math.round(performance.now() - started),
      },
      'request',
    );
  };
}
