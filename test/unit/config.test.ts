import { selectFallbackProviders } from '../../models/create-model-provider';
import { ConfigError, loadApiConfig, loadWorkerConfig } from '../../runtime/config';

test('worker config has defaults that run the local stack', () => {
  const config = loadWorkerConfig({});
  expect(config.temporal).toMatchObject({
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'tdev-session',
  });
  expect(config.model.MODEL_PROVIDER).toBe('auto');
  expect(config.worker.WORKER_MAX_CONCURRENT_ACTIVITIES).toBe(100);
});

test('the sticky cache size is optional and never below the workflow task slots', () => {
  expect(loadWorkerConfig({}).worker.WORKER_MAX_CACHED_WORKFLOWS).toBeUndefined();
  expect(
    loadWorkerConfig({ WORKER_MAX_CACHED_WORKFLOWS: '500' }).worker.WORKER_MAX_CACHED_WORKFLOWS,
  ).toBe(500);
  expect(() =>
    loadWorkerConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '20',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '40',
    }),
  ).toThrow(/WORKER_MAX_CACHED_WORKFLOWS: must be at least WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/);
});

test('a bad value stops start-up with the variable named', () => {
  expect(() => loadWorkerConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' })).toThrow(ConfigError);
  expect(() => loadWorkerConfig({ MODEL_PROVIDER: 'gpt' })).toThrow(/MODEL_PROVIDER/);
  expect(() => loadWorkerConfig({ DYNAMODB_ENDPOINT: 'not a url' })).toThrow(/DYNAMODB_ENDPOINT/);
});

test('the API needs a way to verify tokens', () => {
  expect(() => loadApiConfig({})).toThrow(
    'set AUTH_PUBLIC_KEY_FILE or AUTH_JWKS_URL (or AUTH_OIDC_DISCOVERY=true)',
  );
  const config = loadApiConfig({ AUTH_PUBLIC_KEY_FILE: '/keys/public.json', API_PORT: '9090' });
  expect(config.api.API_PORT).toBe(9090);
  expect(config.auth).toMatchObject({ AUTH_ALGORITHM: 'ES256', AUTH_AUDIENCE: 't-developer-api' });
  expect(config.api.SESSION_MAX_DURATION_MS).toBe(8 * 60 * 60 * 1000);
});

test('MODEL_FALLBACKS builds the configured fallback providers in order, and refuses unconfigured ones', () => {
  const config = loadWorkerConfig({ MODEL_FALLBACKS: ' groq, openai ,' }).model;
  expect(config.MODEL_FALLBACKS).toEqual(['groq', 'openai']);
  const providers = selectFallbackProviders(config, {
    GROQ_API_KEY: 'gsk-test',
    OPENAI_API_KEY: 'sk-test',
  });
  expect(providers.map((provider) => provider.name)).toEqual(['groq', 'openai']);
  expect(() => selectFallbackProviders(config, { GROQ_API_KEY: 'gsk-test' })).toThrow(
    'MODEL_FALLBACKS names "openai" but it is not configured (set OPENAI_API_KEY)',
  );
  expect(() =>
    selectFallbackProviders(loadWorkerConfig({ MODEL_FALLBACKS: 'nope' }).model, {}),
  ).toThrow('Unknown model provider "nope"');
});
