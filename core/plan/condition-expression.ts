/**
 * Step conditions: a small, safe expression language evaluated deterministically in workflow
 * code. No `eval`, no `Function`, no I/O, no clock, no randomness; regular expressions are
 * never built from input. Parse once when a plan is validated, evaluate on every run.
 *
 * Grammar (EBNF; whitespace is space, tab, CR, LF):
 *
 *   condition  = or , EOF ;
 *   or         = and , { ( "||" | "or" ) , and } ;
 *   and        = not , { ( "&&" | "and" ) , not } ;
 *   not        = ( "!" | "not" ) , not | comparison ;
 *   comparison = operand , [ compare-op , operand ] ;            (never chained: a < b < c)
 *   compare-op = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" , "in" ;
 *   operand    = literal | array | call | path | "(" , or , ")" ;
 *   call       = function , "(" , [ or , { "," , or } ] , ")" ;
 *   function   = "len" | "lower" | "upper" | "contains" | "startsWith" | "exists" ;
 *   path       = root , { "." , member | "[" , ( string | index ) , "]" } ;
 *   root       = name ;                                          (one of the allowed roots)
 *   array      = "[" , [ element , { "," , element } ] , "]" ;
 *   element    = literal | array ;
 *   literal    = number | string | "true" | "false" | "null" ;
 *   name       = ( letter | "_" ) , { letter | digit | "_" | "-" } ;
 *   member     = ( letter | digit | "_" ) , { letter | digit | "_" | "-" } ;
 *   index      = digit , { digit } ;
 *   number     = JSON number (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?), finite ;
 *   string     = '"' ... '"' | "'" ... "'" ;  escapes \" \' \\ \/ \b \f \n \r \t \uXXXX
 *
 * Precedence, loosest first: `or`/`||`, `and`/`&&`, `not`/`!`, comparisons. `not` binds looser
 * than a comparison (`not a == b` is `not (a == b)`), as in Python.
 *
 * Semantics:
 * - The context is plain JSON data. A path reads only own enumerable data properties of plain
 *   objects and elements of arrays; `__proto__`, `constructor` and `prototype` are rejected
 *   when written and read as null when met in data. A missing path, a segment into a
 *   non-container, an array's `length` and any non-JSON value read as null — never a throw.
 * - `steps` must be followed by a step id (`steps.design`, `steps["design"]`), so
 *   `referencedSteps` sees every step a condition depends on.
 * - `==`/`!=` compare JSON values structurally; values of different types are never equal
 *   (`1 == "1"` is false, `null == false` is false). `<`, `<=`, `>`, `>=` compare two numbers or
 *   two strings (by UTF-16 code units, not locale); any other pair gives false in every
 *   direction, so prefer `exists(x) && x > 0` to `not (x <= 0)`.
 * - `a in b`: b an array holds an element equal to a; b a string contains the string a; b an
 *   object has own key a. Otherwise false. `a not in b` is exactly `not (a in b)`.
 * - `not`, `and`, `or` need booleans (no truthiness): anything else is a `type-mismatch`
 *   evaluation error. `and`/`or` short-circuit left to right, so `exists(x) && x.y > 1` is safe.
 * - Functions: `len` (code points of a string, elements of an array, keys of an object, else
 *   null); `lower`/`upper` (strings, else null); `contains(a, b)` is `b in a`;
 *   `startsWith(text, prefix)` (false unless both are strings); `exists(x)` is `x != null`.
 * - The whole condition must give a boolean, else `non-boolean-result`.
 *
 * Limits ({@link CONDITION_LIMITS}): source length, nesting depth, node count and string
 * literal length at parse time; a step budget and a value nesting limit at evaluation time.
 * Each produces a typed error with a `code`. Positions are 0-based UTF-16 offsets.
 */
import type { CompiledCondition } from './condition/ast';
import { ConditionEvaluationError, ConditionSyntaxError } from './condition/errors';
import { evaluateAst } from './condition/evaluator';
import { FUNCTION_NAMES } from './condition/functions';
import {
  CONDITION_LIMITS,
  DEFAULT_CONDITION_ROOTS,
  FORBIDDEN_PROPERTY_NAMES,
} from './condition/limits';
import { parseTokens } from './condition/parser';
import { tokenize } from './condition/tokenizer';
import { isArray, isPlainObject, typeOf } from './condition/values';

export type {
  CompiledCondition,
  ComparisonOperator,
  ConditionNode,
  FunctionName,
  LiteralValue,
} from './condition/ast';
export {
  ConditionError,
  ConditionEvaluationError,
  ConditionSyntaxError,
  type ConditionEvaluationErrorCode,
  type ConditionSyntaxErrorCode,
} from './condition/errors';
export { CONDITION_LIMITS, DEFAULT_CONDITION_ROOTS } from './condition/limits';
export { referencedSteps } from './condition/referenced-steps';
export const CONDITION_FUNCTIONS: readonly string[] = FUNCTION_NAMES;

export interface ParseConditionOptions {
  /** Top-level names a condition may read; others are `unknown-name`. Default: steps, request. */
  roots?: readonly string[];
}

export interface EvaluateConditionOptions {
  /** Maximum evaluation steps; default {@link CONDITION_LIMITS}.stepBudget. */
  stepBudget?: number;
}

/** The context a condition reads: plain JSON data, e.g. `{ steps: { design: {...} }, request }`. */
export type ConditionContext = { readonly [root: string]: unknown };

/**
 * Parses a condition's source into a frozen {@link CompiledCondition}. Checks the length
 * before reading anything, then tokenizes and parses with depth and node limits, and
 * rejects unknown names and functions, wrong argument counts and forbidden properties.
 * Throws {@link ConditionSyntaxError} (message `<problem> at <position>[; <hint>]`).
 */
export function parseCondition(
  source: string,
  options: ParseConditionOptions = {},
): CompiledCondition {
  if (typeof source !== 'string') {
    throw new ConditionSyntaxError(
      'invalid-source',
      `condition must be a string, got ${typeof source}`,
    );
  }
  if (source.length > CONDITION_LIMITS.maxSourceLength) {
    throw new ConditionSyntaxError(
      'too-long',
      `condition is ${source.length} characters long; the limit is ${CONDITION_LIMITS.maxSourceLength}`,
    );
  }
  const tokens = tokenize(source);
  if (tokens.length === 1) throw new ConditionSyntaxError('empty', 'condition is empty', 0);
  const ast = parseTokens(tokens, rootSet(options.roots ?? DEFAULT_CONDITION_ROOTS));
  return Object.freeze({ source, ast });
}

/**
 * Evaluates a parsed condition against a context and returns its boolean. Deterministic: the
 * same condition and context always give the same result or the same error. Never modifies
 * the context and never runs code found in it. Throws {@link ConditionEvaluationError}:
 * `type-mismatch` (non-boolean operand of not/and/or), `non-boolean-result`,
 * `step-budget-exceeded`, `value-too-deep`, `invalid-context`, `invalid-condition`.
 */
export function evaluateCondition(
  compiled: CompiledCondition,
  context: ConditionContext,
  options: EvaluateConditionOptions = {},
): boolean {
  const stepBudget = options.stepBudget ?? CONDITION_LIMITS.stepBudget;
  if (!Number.isSafeInteger(stepBudget) || stepBudget < 1) {
    throw new RangeError(`stepBudget must be a positive integer, got ${String(stepBudget)}`);
  }
  if (!isCompiled(compiled)) {
    throw new ConditionEvaluationError('invalid-condition', 'not a condition from parseCondition');
  }
  if (!isPlainObject(context)) {
    throw new ConditionEvaluationError(
      'invalid-context',
      `context must be a plain object, got ${describeContext(context)}`,
    );
  }
  let result;
  try {
    result = evaluateAst(compiled.ast, context, stepBudget);
  } catch (error) {
    if (error instanceof ConditionEvaluationError) throw error;
    // Only a hand-made or corrupted AST gets here (e.g. operands that are not an array).
    throw new ConditionEvaluationError(
      'invalid-condition',
      `not a condition from parseCondition: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof result === 'boolean') return result;
  throw new ConditionEvaluationError(
    'non-boolean-result',
    `condition must give a boolean, got ${typeOf(result)}`,
    compiled.ast.position,
    'compare explicitly, e.g. steps.review.output.approved == true',
  );
}

function isCompiled(value: unknown): value is CompiledCondition {
  if (typeof value !== 'object' || value === null) return false;
  const ast: unknown = (value as { ast?: unknown }).ast;
  return typeof ast === 'object' && ast !== null && 'kind' in ast;
}

function describeContext(context: unknown): string {
  if (context === null) return 'null';
  if (isArray(context)) return 'array';
  return typeof context === 'object' ? 'non-plain object' : typeof context;
}

function rootSet(roots: readonly string[]): ReadonlySet<string> {
  for (const root of roots) {
    if (FORBIDDEN_PROPERTY_NAMES.has(root) || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(root)) {
      throw new RangeError(`invalid condition root ${JSON.stringify(root)}`);
    }
  }
  return new Set(roots);
}
