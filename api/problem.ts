/**
 * RFC 9457 problem details: every error response of the API is `application/problem+json`
 * with a stable `type` URI per kind of problem.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const PROBLEM_BASE = 'https://t-developer.dev/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** Thrown by handlers and middleware; `app.onError` turns it into the response. */
export class ProblemError extends HTTPException {
  readonly problem: ProblemBody;
  /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
  headers: Record<string, string> = {};

  constructor(
    status: ContentfulStatusCode,
    slug: string,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(status, { message: detail ?? title });
    this.problem = {
      type: `${PROBLEM_BASE}${slug}`,
      title,
      status,
      ...(detail !== undefined ? { detail } : {}),
      ...extensions,
    };
  }

  withHeaders(headers: Record<string, string>): this {
    this.headers = { ...this.headers, ...headers };
    return this;
  }
}

export function problemResponse(
  context: Context,
  problem: ProblemBody,
  headers: Record<string, string> = {},
): Response {
  // Through the context, so headers set earlier (request id, security headers) are kept.
  return context.newResponse(
    JSON.stringify({ ...problem, instance: problem.instance ?? context.req.path }),
    problem.status as ContentfulStatusCode,
    { ...headers, 'content-type': 'application/problem+json' },
  );
}

export const problems = {
  badRequest: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemError(400, 'bad-request', 'The request is not valid', detail, extensions),
  unauthorized: (detail: string) =>
    new ProblemError(401, 'unauthorized', 'Authentication is required', detail),
  forbidden: (detail: string) => new ProblemError(403, 'forbidden', 'Not allowed', detail),
  notFound: (detail: string) => new ProblemError(404, 'not-found', 'Not found', detail),
  conflict: (detail: string) =>
    new ProblemError(409, 'conflict', 'Conflict with the current state', detail),
  payloadTooLarge: (limit: number) =>
    new ProblemError(
      413,
      'payload-too-large',
      'Request body is too large',
      `the limit is ${limit} bytes`,
      { limit },
    ),
  unprocessable: (
    slug: string,
    title: string,
    detail: string,
    extensions?: Record<string, unknown>,
  ) => new ProblemError(422, slug, title, detail, extensions),
  unavailable: (detail: string) =>
    new ProblemError(503, 'service-unavailable', 'A backing service is unavailable', detail),
  gatewayTimeout: (detail: string) =>
    new ProblemError(504, 'timeout', 'The operation did not finish in time', detail),
};
