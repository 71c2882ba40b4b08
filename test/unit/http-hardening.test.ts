/** Security headers, request ids and CORS on every response of the app, errors included. */
import { createApp, type ApiDependencies } from '../../api/app';
import { TokenRejectedError } from '../../runtime/auth/tokens';
import { createLogger } from '../../runtime/logger';

function app(corsOrigins?: string[]) {
  const unused = {} as never;
  const dependencies: ApiDependencies = {
    sessions: unused,
    agents: unused,
    health: async () => ({ status: 'ok' }) as never,
    verifyToken: async () => {
      throw new TokenRejectedError('token is malformed');
    },
    sessionIndex: unused,
    logger: createLogger({ name: 'hardening-test', level: 'silent' }),
    bodyLimitBytes: 1024,
    ssePollIntervalMs: 100,
    ...(corsOrigins ? { corsOrigins } : {}),
  };
  return createApp(dependencies);
}

test('errors and successes carry the security headers and a request id', async () => {
  for (const response of [
    await app().request('/v1/sessions'),
    await app().request('/v1/sessions', { headers: { authorization: 'Bearer abc' } }),
    await app().request('/health'),
  ]) {
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=31536000');
  }
  const problem = await app().request('/v1/sessions');
  expect(problem.status).toBe(401);
  expect(problem.headers.get('content-type')).toBe('application/problem+json');
});

test("a caller's request id is echoed", async () => {
  const response = await app().request('/health', { headers: { 'x-request-id': 'trace-42' } });
  expect(response.headers.get('x-request-id')).toBe('trace-42');
});

test('CORS answers configured origins only, preflight included', async () => {
  const configured = app(['https://app.example.com']);
  const preflight = await configured.request('/v1/sessions', {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  const other = await configured.request('/health', { headers: { origin: 'https://evil.test' } });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
  const none = await app().request('/health', { headers: { origin: 'https://app.example.com' } });
  expect(none.headers.get('access-control-allow-origin')).toBeNull();
});
