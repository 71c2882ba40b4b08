/**
 * The codec endpoint for the Temporal Web UI and CLI (`--ui-codec-endpoint`,
 * `temporal workflow show --codec-endpoint`): `POST /encode` and `POST /decode` with
 * `{ payloads: [...] }`. Browsers get CORS for the UI origins (`Content-Type`, `X-Namespace`,
 * `Authorization`, with credentials); every call needs a token with an operator role — as
 * `Authorization: Bearer …` (the CLI, a Web UI with SSO that passes its access token) or as the
 * `tdev_codec` cookie that `GET/POST /codec/login` sets (a Web UI without SSO, such as the dev
 * server's: its codec setting "include cross-origin credentials" sends the cookie). The cookie
 * is HttpOnly, SameSite=Strict, scoped to `/codec` and expires with the token; the endpoints it
 * opens only transform payloads, so a forged cross-site request changes nothing and its answer
 * is readable only by the allowed origins.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import type { PayloadCodec } from '@temporalio/common';
import { TokenRejectedError, type Principal, type TokenVerifier } from '../../runtime/auth/tokens';
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

/** The cookie `POST /codec/login` sets: the operator's token, for the Web UI's codec calls. */
export const CODEC_COOKIE = 'tdev_codec';

const LOGIN_PAGE = (message: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Codec sign-in</title></head>` +
  `<body><h1>Decode payloads in the Temporal Web UI</h1><p>${message}</p>` +
  `<form method="post" action="login"><label>Operator token <input name="token" type="password" ` +
  `autocomplete="off" required></label> <button type="submit">Sign in</button></form>` +
  `<p>Then, in the Web UI's codec server settings, set this endpoint and turn on ` +
  `"include cross-origin credentials".</p></body></html>`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

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
  // Sign-in for browsers without SSO: a form that turns an operator token into the cookie.
  app.get('/login', (context) => context.html(LOGIN_PAGE('Paste an operator token to sign in.')));
  app.post('/login', async (context) => {
    const form = await context.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    let principal: Principal;
    try {
      principal = await options.verifyToken(token);
    } catch (error) {
      const reason = error instanceof TokenRejectedError ? error.message : 'token not verified';
      return context.html(LOGIN_PAGE(`Not signed in: ${escapeHtml(reason)}.`), 401);
    }
    if (!principal.roles.some((role) => roles.includes(role))) {
      return context.html(LOGIN_PAGE(`Not signed in: needs one of ${roles.join(', ')}.`), 403);
    }
    const maxAge = principal.expiresAt
      ? Math.max(0, principal.expiresAt - Math.floor(Date.now() / 1000))
      : 3600;
    setCookie(context, CODEC_COOKIE, token, {
      path: '/codec',
      httpOnly: true,
      sameSite: 'Strict',
      maxAge,
    });
    return context.html(LOGIN_PAGE(`Signed in as ${escapeHtml(principal.userId)}.`));
  });
  const bearer = bearerAuth({ verify: options.verifyToken });
  app.use(async function cookieOrBearer(context, next) {
    const cookie = getCookie(context, CODEC_COOKIE);
    if (context.req.header('authorization') || !cookie) return bearer(context, next);
    try {
      context.set('principal', await options.verifyToken(cookie));
    } catch (error) {
      const reason = error instanceof TokenRejectedError ? error.message : 'token not verified';
      throw problems.unauthorized(
        `the codec sign-in cookie is not valid (${reason}); sign in again at /codec/login`,
      );
    }
    await next();
  });
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
