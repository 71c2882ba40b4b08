import { inspect } from 'node:util';
import { CATALOG_PROVIDER_IDS } from '../../core/models/model-providers';
import { modelRef } from '../../core/models/model-ref';
import { PROVIDER_CATALOG } from '../../models/ai-sdk';
import { selectFallbackProviders, selectModelProvider } from '../../models/create-model-provider';
import { ConfigError, loadModelConfig } from '../../runtime/config';
import { buildModelStack } from '../../workers/model-stack';

const config = (env: Record<string, string>) => loadModelConfig(env);

test('the catalog constructs exactly the provider ids the config accepts, in the same order', () => {
  expect(PROVIDER_CATALOG.map((entry) => entry.id)).toEqual([...CATALOG_PROVIDER_IDS]);
});

test('an unknown MODEL_PROVIDER stops start-up, naming the variable and the accepted ids', () => {
  expect(() => loadModelConfig({ MODEL_PROVIDER: 'gpt' })).toThrow(ConfigError);
  expect(() => loadModelConfig({ MODEL_PROVIDER: 'gpt' })).toThrow(
    /MODEL_PROVIDER: unknown model provider "gpt": auto, bedrock, offline or an AI SDK catalog id \(openai, anthropic, .*, openai-compatible\)/,
  );
  expect(loadModelConfig({ MODEL_PROVIDER: 'ollama' }).MODEL_PROVIDER).toBe('ollama');
});

test('a catalog provider as primary needs its settings: a clear error names the missing variable', () => {
  const missing =
    (provider: string, env: Record<string, string> = {}) =>
    () =>
      selectModelProvider(config({ MODEL_PROVIDER: provider }), env);
  expect(missing('openai')).toThrow(ConfigError);
  expect(missing('openai')).toThrow(
    'MODEL_PROVIDER=openai but it is not configured (set OPENAI_API_KEY)',
  );
  // A keyless local server is switched on by its base URL, not by a key.
  expect(missing('openai-compatible', { OPENAI_COMPATIBLE_API_KEY: 'sk-local' })).toThrow(
    'MODEL_PROVIDER=openai-compatible but it is not configured (set OPENAI_COMPATIBLE_BASE_URL)',
  );
  expect(missing('azure', { AZURE_API_KEY: 'az-key' })).toThrow(
    'MODEL_PROVIDER=azure but it is not configured (set AZURE_API_KEY and AZURE_RESOURCE_NAME (or AZURE_BASE_URL))',
  );
  expect(missing('vllm', { VLLM_BASE_URL: 'localhost:8000' })).toThrow(
    'MODEL_PROVIDER=vllm but VLLM_BASE_URL is not an http(s) URL ("localhost:8000")',
  );
});

test('MODEL_PROVIDER=openai: the primary is OpenAI with its key, model and base URL; the key is never in the reason', () => {
  const selection = selectModelProvider(config({ MODEL_PROVIDER: 'openai' }), {
    OPENAI_API_KEY: 'sk-secret-key',
    OPENAI_MODEL: 'gpt-4.1-mini',
    OPENAI_BASE_URL: 'https://user:pw@gateway.example/v1?token=t',
  });
  expect(modelRef(selection.provider)).toBe('openai:gpt-4.1-mini');
  expect(selection.reason).toBe(
    'OpenAI gpt-4.1-mini via https://gateway.example/v1 (MODEL_PROVIDER=openai)',
  );
  expect(selection.reason).not.toContain('sk-secret-key');
  expect(inspect(selection.provider)).not.toContain('sk-secret-key');
});

test('MODEL_PROVIDER=openai-compatible: a local server by base URL, keyless, with its model id', () => {
  const selection = selectModelProvider(config({ MODEL_PROVIDER: 'openai-compatible' }), {
    OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1',
    OPENAI_COMPATIBLE_MODEL: 'qwen2.5-coder:7b',
  });
  expect(modelRef(selection.provider)).toBe('openai-compatible:qwen2.5-coder:7b');
  expect(selection.reason).toBe(
    'Any OpenAI-compatible endpoint qwen2.5-coder:7b via http://127.0.0.1:11434/v1 (MODEL_PROVIDER=openai-compatible)',
  );
});

test('auto, bedrock and offline choose as before', () => {
  expect(selectModelProvider(config({}), {}).provider.name).toBe('offline');
  expect(selectModelProvider(config({}), { AWS_ACCESS_KEY_ID: 'AKID' }).provider.name).toBe(
    'bedrock',
  );
  expect(selectModelProvider(config({ MODEL_PROVIDER: 'bedrock' }), {}).provider.name).toBe(
    'bedrock',
  );
  expect(
    selectModelProvider(config({ MODEL_PROVIDER: 'offline' }), { OPENAI_API_KEY: 'sk' }).provider
      .name,
  ).toBe('offline');
});

test('the chain with a catalog primary: no Bedrock inference profiles, then the fallbacks; the activities get the primary', () => {
  const env = {
    MODEL_PROVIDER: 'openai',
    MODEL_FALLBACKS: 'anthropic,ollama',
    OPENAI_API_KEY: 'sk-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    OLLAMA_BASE_URL: 'http://127.0.0.1:11434/v1',
  };
  const stack = buildModelStack(config(env), {}, env);
  expect(stack.models.map(modelRef)).toEqual([
    'openai:gpt-4o-mini',
    'anthropic:claude-sonnet-4-20250514',
    'ollama:llama3.2',
  ]);
  expect(stack.primary.provider).toBe(stack.models[0]);
  expect(stack.dependencies.model).toBe(stack.plannerModel);
  expect(stack.dependencies.models).toBe(stack.models);
  expect(stack.dependencies.plannerMode).toBe('hybrid');
});

test('the primary provider named again in MODEL_FALLBACKS is refused', () => {
  const env = { MODEL_PROVIDER: 'openai', MODEL_FALLBACKS: 'openai', OPENAI_API_KEY: 'sk-test' };
  expect(() => selectFallbackProviders(config(env), env)).toThrow(
    'MODEL_FALLBACKS names "openai", which is already the primary (MODEL_PROVIDER=openai)',
  );
});
