/** Typed errors of the condition language: every failure carries a stable `code`. */

/** Why a condition's source was rejected at parse time. */
export type ConditionSyntaxErrorCode =
  | 'invalid-source'
  | 'empty'
  | 'too-long'
  | 'unexpected-character'
  | 'unterminated-string'
  | 'invalid-escape'
  | 'string-too-long'
  | 'invalid-number'
  | 'number-out-of-range'
  | 'unexpected-token'
  | 'unknown-name'
  | 'unknown-function'
  | 'wrong-arity'
  | 'forbidden-property'
  | 'invalid-index'
  | 'method-call'
  | 'invalid-step-reference'
  | 'chained-comparison'
  | 'too-deep'
  | 'too-many-nodes';

/** Why evaluating a parsed condition against a context failed. */
export type ConditionEvaluationErrorCode =
  | 'invalid-condition'
  | 'invalid-context'
  | 'type-mismatch'
  | 'non-boolean-result'
  | 'step-budget-exceeded'
  | 'value-too-deep';

/**
 * Base class of both condition errors. `position` is the 0-based offset (in UTF-16 code units)
 * into the condition's source, or undefined when the problem has no single place.
 */
export abstract class ConditionError extends Error {
  abstract readonly code: ConditionSyntaxErrorCode | ConditionEvaluationErrorCode;
  readonly position: number | undefined;

  /** The message reads `<problem> at <position>; <hint>`, e.g. `unexpected token ")" at 14`. */
  protected constructor(problem: string, position: number | undefined, hint: string | undefined) {
    super(`${problem}${position === undefined ? '' : ` at ${position}`}${hint ? `; ${hint}` : ''}`);
    this.position = position;
  }
}

/** The source is not a valid condition; thrown by `parseCondition`, never by evaluation. */
export class ConditionSyntaxError extends ConditionError {
  override readonly name = 'ConditionSyntaxError';
  readonly code: ConditionSyntaxErrorCode;

  constructor(code: ConditionSyntaxErrorCode, problem: string, position?: number, hint?: string) {
    super(problem, position, hint);
    this.code = code;
  }
}

/** A parsed condition could not produce a boolean for this context; thrown by evaluation. */
export class ConditionEvaluationError extends ConditionError {
  override readonly name = 'ConditionEvaluationError';
  readonly code: ConditionEvaluationErrorCode;

  constructor(
    code: ConditionEvaluationErrorCode,
    problem: string,
    position?: number,
    hint?: string,
  ) {
    super(problem, position, hint);
    this.code = code;
  }
}
