import type { ComparisonOperator, ConditionNode } from './ast';
import { ConditionEvaluationError } from './errors';
import { CONDITION_LIMITS, FORBIDDEN_PROPERTY_NAMES } from './limits';
import {
  codePointLength,
  isArray,
  keysOf,
  ownDataValue,
  readMember,
  toConditionValue,
  typeOf,
  type ConditionObject,
  type ConditionValue,
} from './values';

/** Far above what the parser's depth limit allows; only a hand-made AST can get here. */
const MAX_AST_DEPTH = CONDITION_LIMITS.maxDepth * 8;

/**
 * Evaluates an AST against a context. Pure: reads only own data properties of the context,
 * calls nothing in it, and charges one step per node, per collection element or key visited
 * and per KiB of text scanned; past `stepBudget` it stops with `step-budget-exceeded`.
 */
export function evaluateAst(
  ast: ConditionNode,
  context: ConditionObject,
  stepBudget: number,
): ConditionValue {
  return new Evaluation(context, stepBudget).evaluate(ast, 0);
}

class Evaluation {
  private steps = 0;

  constructor(
    private readonly context: ConditionObject,
    private readonly stepBudget: number,
  ) {}

  evaluate(node: ConditionNode, depth: number): ConditionValue {
    if (depth > MAX_AST_DEPTH) throw malformed('the AST is nested too deeply');
    this.charge(1);
    switch (node.kind) {
      case 'literal':
        return toConditionValue(node.value);
      case 'path': {
        let value = readMember(this.context, node.root);
        for (const segment of node.segments) {
          if (value === null) return null;
          this.charge(1);
          value = readMember(value, segment);
        }
        return value;
      }
      case 'call':
        return this.call(
          node.name,
          node.args.map((argument) => this.evaluate(argument, depth + 1)),
          node.position,
        );
      case 'not':
        return !this.boolean(node.operand, depth, '"not"');
      case 'logical':
        for (const operand of node.operands) {
          const value = this.boolean(operand, depth, `"${node.operator}"`);
          if (node.operator === 'and' && !value) return false;
          if (node.operator === 'or' && value) return true;
        }
        return node.operator === 'and';
      case 'comparison':
        return this.compare(
          node.operator,
          this.evaluate(node.left, depth + 1),
          this.evaluate(node.right, depth + 1),
          node.operatorPosition,
        );
      default:
        throw malformed(`unknown node kind ${JSON.stringify((node as { kind: unknown }).kind)}`);
    }
  }

  private boolean(node: ConditionNode, depth: number, operator: string): boolean {
    const value = this.evaluate(node, depth + 1);
    if (typeof value === 'boolean') return value;
    throw new ConditionEvaluationError(
      'type-mismatch',
      `${operator} needs a boolean operand, got ${typeOf(value)}`,
      node.position,
      'compare explicitly (== true, != null) or test with exists(...)',
    );
  }

  private compare(
    operator: ComparisonOperator,
    left: ConditionValue,
    right: ConditionValue,
    position: number,
  ): boolean {
    switch (operator) {
      case '==':
        return this.equal(left, right, 0, position);
      case '!=':
        return !this.equal(left, right, 0, position);
      case 'in':
        return this.contains(right, left, position);
      case 'not in':
        return !this.contains(right, left, position);
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.order(operator, left, right);
      default:
        throw malformed(`unknown operator ${JSON.stringify(operator)}`);
    }
  }

  /** Numbers with numbers, strings with strings (by UTF-16 code units); anything else is false. */
  private order(operator: '<' | '<=' | '>' | '>=', left: ConditionValue, right: ConditionValue) {
    const bothNumbers = typeof left === 'number' && typeof right === 'number';
    const bothStrings = typeof left === 'string' && typeof right === 'string';
    if (!bothNumbers && !bothStrings) return false;
    if (bothStrings) this.charge(textCost(left) + textCost(right));
    switch (operator) {
      case '<':
        return left < right;
      case '<=':
        return left <= right;
      case '>':
        return left > right;
      case '>=':
        return left >= right;
    }
  }

  /** Structural equality of JSON values; values of different types are never equal. */
  private equal(left: ConditionValue, right: ConditionValue, depth: number, position: number) {
    this.charge(1);
    if (depth > CONDITION_LIMITS.maxValueDepth) {
      throw new ConditionEvaluationError(
        'value-too-deep',
        `compared values are nested more than ${CONDITION_LIMITS.maxValueDepth} levels deep`,
        position,
      );
    }
    if (typeOf(left) !== typeOf(right)) return false;
    if (isArray(left) && isArray(right)) {
      if (left.length !== right.length) return false;
      for (let index = 0; index < left.length; index += 1) {
        const same = this.equal(
          readMember(left, index),
          readMember(right, index),
          depth + 1,
          position,
        );
        if (!same) return false;
      }
      return true;
    }
    if (typeOf(left) === 'object') {
      const leftObject = left as ConditionObject;
      const rightObject = right as ConditionObject;
      const leftKeys = keysOf(leftObject);
      const rightKeys = keysOf(rightObject);
      this.charge(leftKeys.length + rightKeys.length);
      if (leftKeys.length !== rightKeys.length) return false;
      for (const key of leftKeys) {
        if (!Object.hasOwn(rightObject, key)) return false;
        const same = this.equal(
          ownDataValue(leftObject, key) ?? null,
          ownDataValue(rightObject, key) ?? null,
          depth + 1,
          position,
        );
        if (!same) return false;
      }
      return true;
    }
    if (typeof left === 'string') this.charge(textCost(left));
    return left === right;
  }

  /** `needle in haystack`: array element, substring, or own key of an object; else false. */
  private contains(haystack: ConditionValue, needle: ConditionValue, position: number): boolean {
    if (isArray(haystack)) {
      for (let index = 0; index < haystack.length; index += 1) {
        if (this.equal(readMember(haystack, index), needle, 1, position)) return true;
      }
      return false;
    }
    if (typeof haystack === 'string') {
      if (typeof needle !== 'string') return false;
      this.charge(textCost(haystack));
      return haystack.includes(needle);
    }
    if (haystack !== null && typeof haystack === 'object' && typeof needle === 'string') {
      return !FORBIDDEN_PROPERTY_NAMES.has(needle) && ownDataValue(haystack, needle) !== undefined;
    }
    return false;
  }

  private call(name: string, args: ConditionValue[], position: number): ConditionValue {
    const [first = null, second = null] = args;
    switch (name) {
      case 'len':
        if (typeof first === 'string') {
          this.charge(textCost(first));
          return codePointLength(first);
        }
        if (isArray(first)) return first.length;
        if (first !== null && typeof first === 'object') {
          const keys = keysOf(first);
          this.charge(keys.length);
          return keys.length;
        }
        return null;
      case 'lower':
      case 'upper':
        if (typeof first !== 'string') return null;
        this.charge(textCost(first));
        return name === 'lower' ? first.toLowerCase() : first.toUpperCase();
      case 'contains':
        return this.contains(first, second, position);
      case 'startsWith':
        return typeof first === 'string' && typeof second === 'string' && first.startsWith(second);
      case 'exists':
        return first !== null;
      default:
        throw malformed(`unknown function ${JSON.stringify(name)}`);
    }
  }

  private charge(cost: number): void {
    this.steps += cost;
    if (this.steps > this.stepBudget) {
      throw new ConditionEvaluationError(
        'step-budget-exceeded',
        `evaluation took more than ${this.stepBudget} steps`,
        undefined,
        'simplify the condition or compare smaller values',
      );
    }
  }
}

function textCost(text: string): number {
  return 1 + Math.floor(text.length / 1024);
}

function malformed(problem: string): ConditionEvaluationError {
  return new ConditionEvaluationError(
    'invalid-condition',
    `not a condition from parseCondition: ${problem}`,
  );
}
