import type { FunctionName } from './ast';

/** The only callable names, with their exact argument counts. A Map: never an object lookup. */
export const FUNCTION_ARITY: ReadonlyMap<string, number> = new Map<FunctionName, number>([
  ['len', 1],
  ['lower', 1],
  ['upper', 1],
  ['contains', 2],
  ['startsWith', 2],
  ['exists', 1],
]);

export const FUNCTION_NAMES: readonly string[] = [...FUNCTION_ARITY.keys()];

export function isFunctionName(name: string): name is FunctionName {
  return FUNCTION_ARITY.has(name);
}
