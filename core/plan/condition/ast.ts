/** The condition AST: plain, frozen data, so a compiled condition can be stored or logged. */

/** A value written literally in a condition. */
export type LiteralValue = null | boolean | number | string | readonly LiteralValue[];

export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';

export type FunctionName = 'len' | 'lower' | 'upper' | 'contains' | 'startsWith' | 'exists';

/** Every node records `position`: the 0-based offset of its first character in the source. */
export type ConditionNode =
  | { readonly kind: 'literal'; readonly value: LiteralValue; readonly position: number }
  | {
      readonly kind: 'path';
      /** First name, read from the context object. */
      readonly root: string;
      /** Member names (`.name`, `["name"]`) and array indexes (`[0]`), in order. */
      readonly segments: readonly (string | number)[];
      readonly position: number;
    }
  | {
      readonly kind: 'call';
      readonly name: FunctionName;
      readonly args: readonly ConditionNode[];
      readonly position: number;
    }
  | { readonly kind: 'not'; readonly operand: ConditionNode; readonly position: number }
  | {
      readonly kind: 'logical';
      readonly operator: 'and' | 'or';
      /** Two or more operands: `a && b && c` is one node, so long chains stay shallow. */
      readonly operands: readonly ConditionNode[];
      readonly position: number;
    }
  | {
      readonly kind: 'comparison';
      readonly operator: ComparisonOperator;
      readonly left: ConditionNode;
      readonly right: ConditionNode;
      readonly position: number;
      readonly operatorPosition: number;
    };

/** What `parseCondition` returns: the source and its AST. Parse once, evaluate many times. */
export interface CompiledCondition {
  readonly source: string;
  readonly ast: ConditionNode;
}
