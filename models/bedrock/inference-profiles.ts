/** Prefixes of Bedrock cross-region inference profile ids (`us.anthropic.claude-...`). */
const GEOGRAPHY_PREFIX = /^(us|eu|apac|global|us-gov|jp|au|ca)\./;

/**
 * The cross-region inference profile ids of a base model id, one per geography in the given
 * order (`us`, `eu`, `global`, ...): `anthropic.claude-3-5-sonnet-20240620-v1:0` with `['us']`
 * gives `['us.anthropic.claude-3-5-sonnet-20240620-v1:0']`. Empty when `modelId` already is a
 * profile id (it has a geography prefix) or is empty. Pure: whether a profile exists for the
 * model is for Bedrock to answer (ResourceNotFoundException / ValidationException).
 */
export function inferenceProfileIds(modelId: string, geographies: readonly string[]): string[] {
  if (modelId === '' || GEOGRAPHY_PREFIX.test(modelId)) return [];
  const unique = [...new Set(geographies.map((geography) => geography.trim().toLowerCase()))];
  return unique
    .filter((geography) => geography !== '')
    .map((geography) => `${geography}.${modelId}`);
}
