/**
 * A model's reference, `provider:model` (e.g. `bedrock:us.anthropic.claude-sonnet-4`): the one
 * key that model cards, the router, the ledger, breakers and fallback chains agree on.
 */
export function modelRef(model: { name: string; model: string }): string {
  return `${model.name}:${model.model}`;
}
