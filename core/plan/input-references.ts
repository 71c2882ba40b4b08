/**
 * Step inputs may reference earlier steps' outputs: `{{steps.<id>.output}}` in an instruction
 * is replaced by that step's output when the step runs. A referenced step must be one the step
 * waits for (a hard or soft dependency); a soft one that did not succeed gives an empty string.
 * Pure; used by plan validation and by the workflow.
 */
const REFERENCE = /\{\{\s*steps\.([a-z0-9][a-z0-9_-]{0,63})\.output\s*\}\}/g;

/** Ids of the steps an instruction references, in order of first use. */
export function referencedOutputs(instruction: string): string[] {
  const ids = new Set<string>();
  for (const match of instruction.matchAll(REFERENCE)) ids.add(match[1] ?? '');
  return [...ids];
}

/** Replaces every reference with `outputOf(id)`; unknown ids become empty strings. */
export function resolveInputReferences(
  instruction: string,
  outputOf: (stepId: string) => string | undefined,
): string {
  return instruction.replace(REFERENCE, (_match, id: string) => outputOf(id) ?? '');
}
