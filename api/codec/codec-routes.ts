/**
 * The codec endpoint for the Temporal Web UI and CLI (`--ui-codec-endpoint`,
 * `temporal workflow show --codec-endpoint`): `POST /encode` and `POST /decode` with
 * `{ payloads: [...] }`. Browsers get CORS for the UI origins (`Content-Type`, `X-Namespace`,
 * `Authorization`); every call needs a bearer token with an operator role.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { PayloadCodec } from '@temporalio/common';
import type { TokenVerifier } from '../../runtime/auth/tokens';
import { PayloadIntegrityError, UnknownKeyError } from '../../runtime/temporal/codec';
import { bearerAuth } from '../middleware/bearer-auth';
import { ProblemError, problems } from '../problem';
import { codecRequestSchema, fromJsonPayloads, toJsonPayload } from './codec-payloads';

export interface CodecRoutesOptions {
  codec: PayloadCodec;
  verifyToken: TokenVerifier;
  /** Origins allowed from a browser (the Web UI's), e.g. `http://localhost:8233`. */
  corsOrigins: string[];
  /** Roles that may encode and decode (default `operator`, `admin`). */
  roles?: string[];
  /**
   * The namespace the payloads belong to. A request whose `X-Namespace` names another one is
   * refused (the UI sends the namespace it shows); absent header = this namespace.
   */
  namespace: string;
  /** Largest request body (default 4 MiB, Temporal's gRPC message limit). */
  maxBodyBytes?: number;
}

/** Only principals with one of `roles` pass; others get 403 naming the roles. */
function requireRole(roles: string[]): MiddlewareHandler {
  return async function requireRoleMiddleware(context, next) {
    const principal = context.get('principal');
    if (!principal.roles.some((role) => roles.includes(role))) {
      throw problems.forbidden(`the codec endpoint needs one of the roles: ${roles.join(', ')}`);
    }
    await next();
  };
}

/** Maps key and integrity failures to 422 problems that name the key id. */
function codecProblem(error: unknown): never {
  if (error instanceof UnknownKeyError) {
    throw new ProblemError(422, 'payload-key-unknown', 'Unknown payload key', error.message, {
      keyId: error.keyId,
    });
  }
  if (error instanceof PayloadIntegrityError) {
    throw new ProblemError(
      422,
      'payload-integrity',
      'Payload failed authentication',
      error.message,
      { keyId: error.keyId },
    );
  }
  throw error;
}

export function codecRoutes(options: CodecRoutesOptions) {
  const roles = options.roles ?? ['operator', 'admin'];
  const app = new Hono();
  app.use(
    cors({
      origin: options.corsOrigins,
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  app.use(
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 4 * 1024 * 1024,
      onError: () => {
        throw problems.payloadTooLarge(options.maxBodyBytes ?? 4 * 1024 * 1024);
      },
    }),
  );
  app.use(bearerAuth({ verify: options.verifyToken }));
  app.use(requireRole(roles));
  app.use(async function namespaceScope(context, next) {
    const namespace = context.req.header('x-namespace');
    if (namespace && namespace !== options.namespace) {
      throw problems.forbidden(
        `this codec endpoint serves namespace "${options.namespace}", not "${namespace}"`,
      );
    }
    await next();
  });

  const handle = (direction: 'encode' | 'decode') =>
    app.post(`/${direction}`, async (context) => {
      const body = codecRequestSchema.safeParse(await context.req.json().catch(() => undefined));
      if (!body.success) {
        throw problems.badRequest(
          `expected { payloads: [{ metadata: { key: base64 }, data: base64 }] }: ${body.error.issues
            .map((issue) => `${issue.path.join('.')} ${issue.message}`)
            .join('; ')}`,
        );
      }
      const payloads = fromJsonPayloads(body.data.payloads);
      const result = await options.codec[direction](payloads).catch(codecProblem);
      return context.json({ payloads: result.map(toJsonPayload) });
    });
  handle('encode');
  handle('decode');
  return app;
}
