/** Fixed limits of the condition language: hostile or careless input stops with a typed error. */
export const CONDITION_LIMITS = Object.freeze({
  /** Characters (UTF-16 code units) in a condition's source; checked before anything else. */
  maxSourceLength: 2_000,
  /** Nesting of parentheses, `not`/`!`, calls and array literals. */
  maxDepth: 32,
  /** AST nodes, counting each path segment and each array element. */
  maxNodes: 500,
  /** Characters in one string literal after its escapes are decoded. */
  maxStringLength: 500,
  /** Default evaluation budget: one step per node, per collection element or key, per KiB of text. */
  stepBudget: 100_000,
  /** Nesting of context values that `==`, `!=` and `in` will compare structurally. */
  maxValueDepth: 64,
});

/** Names that must never be read, whether written in a condition or present in the context. */
export const FORBIDDEN_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** Top-level names a condition may read when the caller does not say otherwise. */
export const DEFAULT_CONDITION_ROOTS: readonly string[] = Object.freeze(['steps', 'request']);

/** The root whose first segment names a step; see `referencedSteps`. */
export const STEPS_ROOT = 'steps';
