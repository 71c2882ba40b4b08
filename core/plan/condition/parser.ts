import type { ComparisonOperator, ConditionNode, LiteralValue } from './ast';
import { ConditionSyntaxError } from './errors';
import { FUNCTION_ARITY, FUNCTION_NAMES, isFunctionName } from './functions';
import { CONDITION_LIMITS, FORBIDDEN_PROPERTY_NAMES, STEPS_ROOT } from './limits';
import type { SymbolText, Token } from './tokenizer';

const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const COMPARISON_SYMBOLS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** `token ")"`, `keyword "in"`, `string "abc"`: how a token is named in an error message. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'end of condition';
    case 'symbol':
      return `token "${token.value}"`;
    case 'name':
      return `${KEYWORDS.has(token.value) ? 'keyword' : 'name'} ${JSON.stringify(shorten(token.value))}`;
    case 'number':
      return `number ${shorten(token.raw)}`;
    case 'string':
      return `string ${JSON.stringify(shorten(token.value))}`;
  }
}

function shorten(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

/**
 * Recursive-descent parser from tokens to a frozen AST (grammar in condition-expression.ts).
 * Depth and node count are checked while descending, so hostile input stops before the
 * call stack or memory grows. Throws {@link ConditionSyntaxError}.
 */
export function parseTokens(tokens: readonly Token[], roots: ReadonlySet<string>): ConditionNode {
  return new Parser(tokens, roots).parseCondition();
}

class Parser {
  private index = 0;
  private depth = 0;
  private nodes = 0;
  private readonly end: Token;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly roots: ReadonlySet<string>,
  ) {
    this.end = tokens.at(-1) ?? { kind: 'end', position: 0 };
  }

  parseCondition(): ConditionNode {
    const node = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') {
      throw this.unexpected(next, 'expected an operator or the end of the condition');
    }
    return node;
  }

  private parseOr(): ConditionNode {
    return this.parseChain('or', '||', () => this.parseAnd());
  }

  private parseAnd(): ConditionNode {
    return this.parseChain('and', '&&', () => this.parseNot());
  }

  /** `a && b && c` becomes one node with three operands, so chains add no depth. */
  private parseChain(
    operator: 'and' | 'or',
    symbol: SymbolText,
    parseOperand: () => ConditionNode,
  ): ConditionNode {
    const first = parseOperand();
    const operands = [first];
    while (this.isSymbol(this.peek(), symbol) || this.isKeyword(this.peek(), operator)) {
      this.index += 1;
      operands.push(parseOperand());
    }
    if (operands.length === 1) return first;
    this.count(first.position);
    return Object.freeze({
      kind: 'logical',
      operator,
      operands: Object.freeze(operands),
      position: first.position,
    });
  }

  /** `not` and `!` bind looser than comparisons: `not a == b` is `not (a == b)`. */
  private parseNot(): ConditionNode {
    const token = this.peek();
    if (!this.isSymbol(token, '!') && !this.isKeyword(token, 'not')) return this.parseComparison();
    this.index += 1;
    this.enter(token.position);
    const operand = this.parseNot();
    this.leave();
    this.count(token.position);
    return Object.freeze({ kind: 'not', operand, position: token.position });
  }

  private parseComparison(): ConditionNode {
    const left = this.parseOperand();
    const operatorToken = this.peek();
    const operator = this.readComparisonOperator();
    if (operator === undefined) return left;
    const right = this.parseOperand();
    const next = this.peek();
    const chained = this.readComparisonOperator();
    if (chained !== undefined) {
      throw new ConditionSyntaxError(
        'chained-comparison',
        `comparison "${chained}" cannot follow another comparison`,
        next.position,
        'combine comparisons with && and parentheses',
      );
    }
    this.count(left.position);
    return Object.freeze({
      kind: 'comparison',
      operator,
      left,
      right,
      position: left.position,
      operatorPosition: operatorToken.position,
    });
  }

  private readComparisonOperator(): ComparisonOperator | undefined {
    const token = this.peek();
    if (token.kind === 'symbol' && COMPARISON_SYMBOLS.has(token.value)) {
      this.index += 1;
      return token.value as ComparisonOperator;
    }
    if (this.isKeyword(token, 'in')) {
      this.index += 1;
      return 'in';
    }
    if (this.isKeyword(token, 'not') && this.isKeyword(this.peek(1), 'in')) {
      this.index += 2;
      return 'not in';
    }
    return undefined;
  }

  private parseOperand(): ConditionNode {
    const token = this.peek();
    if (token.kind === 'number' || token.kind === 'string') {
      this.index += 1;
      return this.literal(token.value, token.position);
    }
    if (this.isSymbol(token, '(')) {
      this.index += 1;
      this.enter(token.position);
      const inner = this.parseOr();
      this.expect(')', 'expected ")" to close the "(" at ' + String(token.position));
      this.leave();
      return inner;
    }
    if (this.isSymbol(token, '[')) {
      const value = this.parseArrayLiteral();
      return this.literal(value, token.position);
    }
    if (token.kind === 'name') {
      const constant = constantOf(token.value);
      if (constant !== undefined) {
        this.index += 1;
        return this.literal(constant.value, token.position);
      }
      if (!KEYWORDS.has(token.value)) {
        return this.isSymbol(this.peek(1), '(') ? this.parseCall(token) : this.parsePath(token);
      }
    }
    throw this.unexpected(token, 'expected a value');
  }

  /** `[literal, ...]`: elements are literals or nested array literals, never paths or calls. */
  private parseArrayLiteral(): readonly LiteralValue[] {
    const open = this.peek();
    this.index += 1;
    this.enter(open.position);
    const values: LiteralValue[] = [];
    if (this.isSymbol(this.peek(), ']')) {
      this.index += 1;
    } else {
      for (;;) {
        const token = this.peek();
        const constant = token.kind === 'name' ? constantOf(token.value) : undefined;
        if (token.kind === 'number' || token.kind === 'string') {
          this.index += 1;
          values.push(token.value);
        } else if (constant !== undefined) {
          this.index += 1;
          values.push(constant.value);
        } else if (this.isSymbol(token, '[')) {
          values.push(this.parseArrayLiteral());
        } else {
          throw this.unexpected(token, 'array elements must be literals');
        }
        this.count(token.position);
        const separator = this.peek();
        this.index += 1;
        if (this.isSymbol(separator, ']')) break;
        if (!this.isSymbol(separator, ',')) throw this.unexpected(separator, 'expected "," or "]"');
      }
    }
    this.leave();
    return Object.freeze(values);
  }

  private parseCall(nameToken: Token & { kind: 'name' }): ConditionNode {
    const name = nameToken.value;
    if (!isFunctionName(name)) {
      throw new ConditionSyntaxError(
        'unknown-function',
        `unknown function ${JSON.stringify(shorten(name))}`,
        nameToken.position,
        `the functions are ${FUNCTION_NAMES.join(', ')}`,
      );
    }
    this.index += 2;
    this.enter(nameToken.position);
    const args: ConditionNode[] = [];
    if (this.isSymbol(this.peek(), ')')) {
      this.index += 1;
    } else {
      for (;;) {
        args.push(this.parseOr());
        const separator = this.peek();
        this.index += 1;
        if (this.isSymbol(separator, ')')) break;
        if (!this.isSymbol(separator, ',')) throw this.unexpected(separator, 'expected "," or ")"');
      }
    }
    this.leave();
    const arity = FUNCTION_ARITY.get(name) ?? 0;
    if (args.length !== arity) {
      throw new ConditionSyntaxError(
        'wrong-arity',
        `${name}() takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length}`,
        nameToken.position,
      );
    }
    this.count(nameToken.position);
    return Object.freeze({
      kind: 'call',
      name,
      args: Object.freeze(args),
      position: nameToken.position,
    });
  }

  /** `root(.name | ["name"] | [index])*`; `steps` must be followed by a step id. */
  private parsePath(rootToken: Token & { kind: 'name' }): ConditionNode {
    const root = rootToken.value;
    this.checkPropertyName(root, rootToken.position);
    if (!this.roots.has(root)) {
      throw new ConditionSyntaxError(
        'unknown-name',
        `unknown name ${JSON.stringify(shorten(root))}`,
        rootToken.position,
        `a condition may read ${[...this.roots].join(', ')}`,
      );
    }
    this.index += 1;
    this.count(rootToken.position);
    const segments: (string | number)[] = [];
    for (;;) {
      const token = this.peek();
      if (this.isSymbol(token, '.')) {
        this.index += 1;
        const name = this.peek();
        if (name.kind !== 'name') throw this.unexpected(name, 'expected a property name after "."');
        this.checkPropertyName(name.value, name.position);
        this.index += 1;
        segments.push(name.value);
        this.count(name.position);
      } else if (this.isSymbol(token, '[')) {
        this.index += 1;
        segments.push(this.readBracketKey());
        this.expect(']', 'expected "]"');
        this.count(token.position);
      } else {
        break;
      }
    }
    const next = this.peek();
    if (this.isSymbol(next, '(')) {
      throw new ConditionSyntaxError(
        'method-call',
        'method calls are not allowed',
        next.position,
        `only the functions ${FUNCTION_NAMES.join(', ')} can be called, by name`,
      );
    }
    if (root === STEPS_ROOT && typeof segments[0] !== 'string') {
      throw new ConditionSyntaxError(
        'invalid-step-reference',
        `"${STEPS_ROOT}" must be followed by a step id`,
        rootToken.position,
        `write e.g. ${STEPS_ROOT}.design.output or ${STEPS_ROOT}["design"]`,
      );
    }
    return Object.freeze({
      kind: 'path',
      root,
      segments: Object.freeze(segments),
      position: rootToken.position,
    });
  }

  private readBracketKey(): string | number {
    const key = this.peek();
    this.index += 1;
    if (key.kind === 'string') {
      this.checkPropertyName(key.value, key.position);
      return key.value;
    }
    if (key.kind === 'number') {
      if (!Number.isSafeInteger(key.value) || key.value < 0 || Object.is(key.value, -0)) {
        throw new ConditionSyntaxError(
          'invalid-index',
          `invalid array index ${shorten(key.raw)}`,
          key.position,
          'an index is a non-negative integer',
        );
      }
      return key.value;
    }
    throw this.unexpected(key, 'expected a string or an index inside "[]"');
  }

  private checkPropertyName(name: string, position: number): void {
    if (FORBIDDEN_PROPERTY_NAMES.has(name)) {
      throw new ConditionSyntaxError(
        'forbidden-property',
        `property ${JSON.stringify(name)} cannot be read`,
        position,
        'conditions read only plain data',
      );
    }
  }

  private literal(value: LiteralValue, position: number): ConditionNode {
    this.count(position);
    return Object.freeze({ kind: 'literal', value, position });
  }

  private peek(offset = 0): Token {
    return this.tokens[this.index + offset] ?? this.end;
  }

  private isSymbol(token: Token, value: SymbolText): boolean {
    return token.kind === 'symbol' && token.value === value;
  }

  private isKeyword(token: Token, word: string): boolean {
    return token.kind === 'name' && token.value === word;
  }

  private expect(symbol: SymbolText, expectation: string): void {
    const token = this.peek();
    if (!this.isSymbol(token, symbol)) throw this.unexpected(token, expectation);
    this.index += 1;
  }

  private unexpected(token: Token, expectation: string): ConditionSyntaxError {
    return new ConditionSyntaxError(
      'unexpected-token',
      `unexpected ${describeToken(token)}`,
      token.position,
      expectation,
    );
  }

  private enter(position: number): void {
    this.depth += 1;
    if (this.depth > CONDITION_LIMITS.maxDepth) {
      throw new ConditionSyntaxError(
        'too-deep',
        `condition is nested more than ${CONDITION_LIMITS.maxDepth} levels deep`,
        position,
      );
    }
  }

  private leave(): void {
    this.depth -= 1;
  }

  private count(position: number): void {
    this.nodes += 1;
    if (this.nodes > CONDITION_LIMITS.maxNodes) {
      throw new ConditionSyntaxError(
        'too-many-nodes',
        `condition has more than ${CONDITION_LIMITS.maxNodes} nodes`,
        position,
      );
    }
  }
}

function constantOf(name: string): { value: null | boolean } | undefined {
  if (name === 'true') return { value: true };
  if (name === 'false') return { value: false };
  if (name === 'null') return { value: null };
  return undefined;
}
