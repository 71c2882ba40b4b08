import {
  CONDITION_LIMITS,
  ConditionError,
  ConditionEvaluationError,
  ConditionSyntaxError,
  evaluateCondition,
  parseCondition,
  referencedSteps,
  type CompiledCondition,
  type ConditionContext,
  type ConditionNode,
} from '../../core/plan/condition-expression';

const context = {
  steps: {
    security: { state: 'succeeded', output: { severity: 'low', findings: [] } },
    test: { state: 'succeeded', output: { passed: 42, failed: 0, ratio: 0.5 } },
    design: { state: 'succeeded', output: { files: ['api.md', 'db.md'], owner: null } },
    review: { state: 'failed', failed: true, output: { approved: false } },
    'security-review': { state: 'skipped' },
    '1st': { state: 'succeeded' },
    docs: {
      output: { tags: { draft: true, 'has space': 1 }, matrix: [[1, 2], [3]], text: '👍🏽 naïve' },
    },
  },
  request: { keywords: ['oauth', 'billing'], title: 'Add OAuth login', priority: 2 },
};

const run = (source: string, data: ConditionContext = context): boolean =>
  evaluateCondition(parseCondition(source), data);

/** The error thrown by `action`, failing the test when nothing is thrown. */
function errorOf(action: () => unknown): ConditionError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConditionError) return error;
    throw error;
  }
  throw new Error('expected a ConditionError, nothing was thrown');
}

const syntaxError = (source: string) => errorOf(() => parseCondition(source));
const evaluationError = (source: string, data: ConditionContext = context) =>
  errorOf(() => run(source, data));

describe('evaluateCondition: positive cases', () => {
  test.each<[string, boolean]>([
    // the examples of the plan step
    ['steps.security.output.severity != "high" && steps.test.state == "succeeded"', true],
    ['len(steps.design.output.files) > 0', true],
    ['"oauth" in request.keywords', true],
    ['not steps.review.failed', false],
    // literals
    ['1 == 1.0', true],
    ['-2.5e1 == -25', true],
    ['1E2 == 100', true],
    ['0.1 < 0.2', true],
    ['-0 == 0', true],
    ['"a" == \'a\'', true],
    ['"say \\"hi\\"" == \'say "hi"\'', true],
    ["'it\\'s' == \"it's\"", true],
    ['"a\\\\b\\/c" == \'a\\\\b/c\'', true],
    ['"\\u00e9" == "é"', true],
    ['"line\\nbreak\\t" != "line break "', true],
    ['true == true', true],
    ['false != true', true],
    ['null == null', true],
    ['[] == []', true],
    ['[1, "a", true, null, [2]] == [1, "a", true, null, [2]]', true],
    ['[1, 2] != [2, 1]', true],
    // no coercion: different types are never equal
    ['1 == "1"', false],
    ['1 != "1"', true],
    ['0 == false', false],
    ['"" == null', false],
    ['null == false', false],
    ['[] == null', false],
    ['steps.design.output.owner == null', true],
    ['steps.design.output.owner != ""', true],
    // ordering: numbers with numbers, strings with strings; anything else is false both ways
    ['steps.test.output.passed >= 42', true],
    ['steps.test.output.passed > 42', false],
    ['steps.test.output.ratio <= 0.5', true],
    ['"apple" < "banana"', true],
    ['"B" < "a"', true],
    ['"10" < "9"', true],
    ['1 < "2"', false],
    ['1 >= "2"', false],
    ['null < 1', false],
    ['null >= 1', false],
    ['true > false', false],
    ['true <= false', false],
    ['[1] < [2]', false],
    ['steps.missing.output.count > 0', false],
    ['steps.missing.output.count <= 0', false],
    // in / not in
    ['"billing" in request.keywords', true],
    ['"payments" in request.keywords', false],
    ['"payments" not in request.keywords', true],
    ['"OAuth" in request.title', true],
    ['"oauth" in request.title', false],
    ['"" in "abc"', true],
    ['[1, 2] in steps.docs.output.matrix', true],
    ['[2, 1] in steps.docs.output.matrix', false],
    ['2 in [1, 2, 3]', true],
    ['"2" in [1, 2, 3]', false],
    ['null in [null]', true],
    ['"draft" in steps.docs.output.tags', true],
    ['"has space" in steps.docs.output.tags', true],
    ['"missing" in steps.docs.output.tags', false],
    ['1 in steps.docs.output.tags', false],
    ['"x" in steps.missing.output', false],
    ['"x" not in steps.missing.output', true],
    ['1 in "123"', false],
    ['"a" in 5', false],
    // functions
    ['len(steps.design.output.files) == 2', true],
    ['len(request.title) == 15', true],
    ['len("👍🏽") == 2', true],
    ['len(steps.docs.output.text) == 8', true],
    ['len(steps.docs.output.tags) == 2', true],
    ['len(steps.missing.output) == null', true],
    ['len(42) == null', true],
    ['len([]) == 0', true],
    ['lower(request.title) == "add oauth login"', true],
    ['upper("naïve") == "NAÏVE"', true],
    ['lower(42) == null', true],
    ['contains(request.keywords, "oauth")', true],
    ['contains(request.title, "login")', true],
    ['contains(request.title, 1)', false],
    ['startsWith(request.title, "Add")', true],
    ['startsWith(request.title, "add")', false],
    ['startsWith(request.keywords, "oauth")', false],
    ['exists(steps.review)', true],
    ['exists(steps.missing)', false],
    ['exists(steps.design.output.owner)', false],
    ['exists(steps.review.output.approved)', true],
    ['contains(lower(request.title), lower("OAUTH"))', true],
    // paths
    ['steps["security"].output["severity"] == "low"', true],
    ['steps.design.output.files[0] == "api.md"', true],
    ['steps.design.output.files[1] == "db.md"', true],
    ['steps.design.output.files.1 == "db.md"', true],
    ['steps.design.output.files[2] == null', true],
    ['steps.design.output.files.01 == null', true],
    ['steps.design.output.files.length == null', true],
    ['steps.docs.output.matrix[0][1] == 2', true],
    ['steps.docs.output.tags["has space"] == 1', true],
    ['steps.security-review.state == "skipped"', true],
    ['steps.1st.state == "succeeded"', true],
    ['steps.review.output.approved.deeper.still == null', true],
    ['request.title.length == null', true],
    ['request.title[0] == null', true],
    ['steps.test.output.toString == null', true],
    ['steps.test.output.hasOwnProperty == null', true],
    ['steps.in.not.and == null', true],
    // logical operators and their aliases
    ['true && true', true],
    ['true and false', false],
    ['false || true', true],
    ['false or false', false],
    ['!false', true],
    ['not not true', true],
    ['!!true', true],
    ['steps.review.output.approved == false', true],
    // layout
    ['\t steps.test.state\n==\r\n"succeeded"  ', true],
    ['(((true)))', true],
  ])('%j → %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  test('logical operators short-circuit, so guarded reads never fail', () => {
    expect(run('false && steps.design.output.files')).toBe(false);
    expect(run('true || 1')).toBe(true);
    expect(run('exists(steps.missing) && steps.missing.output.count > 1')).toBe(false);
    expect(run('not exists(steps.missing) or steps.missing.output')).toBe(true);
  });

  test('compares objects structurally, whatever the key order', () => {
    const data = {
      steps: {
        a: { output: { x: 1, y: [1, { z: 2 }] } },
        b: { output: { y: [1, { z: 2 }], x: 1 } },
      },
    };
    expect(run('steps.a.output == steps.b.output', data)).toBe(true);
    expect(run('steps.a.output != steps.b.output', data)).toBe(false);
    expect(run('steps.a.output == steps.a.output.y', data)).toBe(false);
    expect(run('steps.a.output in [1, 2]', data)).toBe(false);
  });

  test('strings are compared by code units, without Unicode normalisation or locale', () => {
    expect(run('"\u00e9" == "e\u0301"')).toBe(false);
    expect(run('"é" > "z"')).toBe(true);
    expect(run('"\\ud83d\\udc4d" == "👍"')).toBe(true);
  });
});

describe('precedence', () => {
  test.each<[string, boolean]>([
    // && binds tighter than ||
    ['true || false && false', true],
    ['(true || false) && false', false],
    ['false && true || true', true],
    ['false && (true || true)', false],
    // not binds tighter than && and ||
    ['not true and false', false],
    ['not (true and false)', true],
    ['not false or true', true],
    ['! true || true', true],
    // not binds looser than comparisons (as in Python): `not a == b` is `not (a == b)`
    ['not 1 == 2', true],
    ['! "a" == "b"', true],
    ['not "x" in request.keywords', true],
    ['not "oauth" in request.keywords', false],
    // comparisons bind tighter than && / ||
    ['1 == 1 && 2 == 2', true],
    ['1 == 2 || 2 == 2', true],
    ['(1 < 2) == true', true],
  ])('%j → %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  test('a chain of && or || is one flat node, so long chains add no depth', () => {
    const { ast } = parseCondition('true && false && true || false');
    expect(ast).toMatchObject({
      kind: 'logical',
      operator: 'or',
      operands: [
        {
          kind: 'logical',
          operator: 'and',
          operands: [{ value: true }, { value: false }, { value: true }],
        },
        { kind: 'literal', value: false },
      ],
    });
    const long = Array.from({ length: 100 }, () => 'true').join(' && ');
    expect(run(long)).toBe(true);
  });

  test('records the position of every node', () => {
    const { ast } = parseCondition('not  steps.a.x >= 1');
    expect(ast).toEqual({
      kind: 'not',
      position: 0,
      operand: {
        kind: 'comparison',
        operator: '>=',
        position: 5,
        operatorPosition: 15,
        left: { kind: 'path', root: 'steps', segments: ['a', 'x'], position: 5 },
        right: { kind: 'literal', value: 1, position: 18 },
      },
    });
  });
});

describe('parseCondition: syntax errors name the problem and its position', () => {
  test.each<[string, string, string]>([
    // the example of the brief: the position is a 0-based offset
    [
      '(steps.a == 1))',
      'unexpected-token',
      'unexpected token ")" at 14; expected an operator or the end of the condition',
    ],
    [
      'steps.security.output.severity != )',
      'unexpected-token',
      'unexpected token ")" at 34; expected a value',
    ],
    ['true and', 'unexpected-token', 'unexpected end of condition at 8; expected a value'],
    [
      '(true',
      'unexpected-token',
      'unexpected end of condition at 5; expected ")" to close the "(" at 0',
    ],
    [
      'true true',
      'unexpected-token',
      'unexpected keyword "true" at 5; expected an operator or the end of the condition',
    ],
    ['== 1', 'unexpected-token', 'unexpected token "==" at 0; expected a value'],
    ['in request.keywords', 'unexpected-token', 'unexpected keyword "in" at 0; expected a value'],
    [
      '1 not 2',
      'unexpected-token',
      'unexpected keyword "not" at 2; expected an operator or the end of the condition',
    ],
    [
      'steps.a.',
      'unexpected-token',
      'unexpected end of condition at 8; expected a property name after "."',
    ],
    [
      'steps.a.[0]',
      'unexpected-token',
      'unexpected token "[" at 8; expected a property name after "."',
    ],
    [
      'steps.a[true]',
      'unexpected-token',
      'unexpected keyword "true" at 8; expected a string or an index inside "[]"',
    ],
    ['steps.a["x" == 1', 'unexpected-token', 'unexpected token "==" at 12; expected "]"'],
    ['[1, 2', 'unexpected-token', 'unexpected end of condition at 5; expected "," or "]"'],
    [
      '[1, 2,] == []',
      'unexpected-token',
      'unexpected token "]" at 6; array elements must be literals',
    ],
    [
      '[1, steps.a] == []',
      'unexpected-token',
      'unexpected name "steps" at 4; array elements must be literals',
    ],
    ['len(steps.a x', 'unexpected-token', 'unexpected name "x" at 12; expected "," or ")"'],
    [
      '(true) (false)',
      'unexpected-token',
      'unexpected token "(" at 7; expected an operator or the end of the condition',
    ],
    [
      'len(steps.a.b).c',
      'unexpected-token',
      'unexpected token "." at 14; expected an operator or the end of the condition',
    ],
    ['.5 == 0.5', 'unexpected-token', 'unexpected token "." at 0; expected a value'],
    [
      '"a very long string that goes on" ==',
      'unexpected-token',
      'unexpected end of condition at 36; expected a value',
    ],
    ['', 'empty', 'condition is empty at 0'],
    [' \t\n ', 'empty', 'condition is empty at 0'],
    ['x = 1', 'unexpected-character', 'unexpected character "=" (U+003D) at 2; use == to compare'],
    [
      'true & false',
      'unexpected-character',
      'unexpected character "&" (U+0026) at 5; use && or and',
    ],
    [
      'true | false',
      'unexpected-character',
      'unexpected character "|" (U+007C) at 5; use || or or',
    ],
    ['1 + 1 == 2', 'unexpected-character', 'unexpected character "+" (U+002B) at 2'],
    ['- 1 == -1', 'unexpected-character', 'unexpected character "-" (U+002D) at 0'],
    ['steps.a.x ?? 1', 'unexpected-character', 'unexpected character "?" (U+003F) at 10'],
    ['$x', 'unexpected-character', 'unexpected character "$" (U+0024) at 0'],
    ['`x`', 'unexpected-character', 'unexpected character "`" (U+0060) at 0'],
    ['"a"\u00a0== "a"', 'unexpected-character', 'unexpected character "\u00a0" (U+00A0) at 3'],
    ['café == 1', 'unexpected-character', 'unexpected character "é" (U+00E9) at 3'],
    ['1 == 1 \u{1F600}', 'unexpected-character', 'unexpected character "\u{1F600}" (U+1F600) at 7'],
    ['true\u0000', 'unexpected-character', 'unexpected character "\\u0000" (U+0000) at 4'],
    [
      '"a\tb" == 1',
      'unexpected-character',
      'unexpected character "\\t" (U+0009) in a string literal at 2; write it as a \\uXXXX escape',
    ],
    [
      '"abc\u202edcb" == 1',
      'unexpected-character',
      'unexpected character "\u202e" (U+202E) in a string literal at 4; write it as a \\uXXXX escape',
    ],
    ['"abc', 'unterminated-string', 'unterminated string literal at 0'],
    ["request.title == 'abc", 'unterminated-string', 'unterminated string literal at 17'],
    ['"abc\\', 'unterminated-string', 'unterminated string literal at 0'],
    ['"abc\\"', 'unterminated-string', 'unterminated string literal at 0'],
    [
      '"a\nb" == 1',
      'unterminated-string',
      'unterminated string literal at 0; write line breaks as \\n',
    ],
    ['"\\x41" == "A"', 'invalid-escape', 'invalid escape "\\\\x" at 1'],
    ['"\\u12" == "A"', 'invalid-escape', 'invalid escape "\\\\u12" at 1'],
    ['"\\u{41}" == "A"', 'invalid-escape', 'invalid escape "\\\\u" at 1'],
    ['01 == 1', 'invalid-number', 'invalid number "01" at 0; leading zeros are not allowed'],
    ['1. == 1', 'invalid-number', 'invalid number "1." at 0; digits must follow "."'],
    ['1e == 1', 'invalid-number', 'invalid number "1e" at 0; the exponent has no digits'],
    ['1e+ == 1', 'invalid-number', 'invalid number "1e+" at 0; the exponent has no digits'],
    ['12abc == 1', 'invalid-number', 'invalid number "12abc" at 0'],
    ['0x10 == 16', 'invalid-number', 'invalid number "0x10" at 0'],
    ['1.2.3 == 1', 'invalid-number', 'invalid number "1.2.3" at 0'],
    ['1-2 == 1', 'invalid-number', 'invalid number "1-2" at 0'],
    ['1e309 == 1', 'number-out-of-range', 'number 1e309 is out of range at 0'],
    ['1 < -1e309', 'number-out-of-range', 'number -1e309 is out of range at 4'],
    [
      'step.a.state == "failed"',
      'unknown-name',
      'unknown name "step" at 0; a condition may read steps, request',
    ],
    ['NaN == NaN', 'unknown-name', 'unknown name "NaN" at 0; a condition may read steps, request'],
    [
      'Infinity > 1',
      'unknown-name',
      'unknown name "Infinity" at 0; a condition may read steps, request',
    ],
    ['True', 'unknown-name', 'unknown name "True" at 0; a condition may read steps, request'],
    [
      'globalThis.process == null',
      'unknown-name',
      'unknown name "globalThis" at 0; a condition may read steps, request',
    ],
    [
      'this.x == 1',
      'unknown-name',
      'unknown name "this" at 0; a condition may read steps, request',
    ],
    [
      'eval("1")',
      'unknown-function',
      'unknown function "eval" at 0; the functions are len, lower, upper, contains, startsWith, exists',
    ],
    [
      'Function("return 1")()',
      'unknown-function',
      'unknown function "Function" at 0; the functions are len, lower, upper, contains, startsWith, exists',
    ],
    [
      'toString(1)',
      'unknown-function',
      'unknown function "toString" at 0; the functions are len, lower, upper, contains, startsWith, exists',
    ],
    [
      'constructor(1)',
      'unknown-function',
      'unknown function "constructor" at 0; the functions are len, lower, upper, contains, startsWith, exists',
    ],
    ['len()', 'wrong-arity', 'len() takes 1 argument, got 0 at 0'],
    ['len("a", "b") == 1', 'wrong-arity', 'len() takes 1 argument, got 2 at 0'],
    ['1 == 1 && contains("a")', 'wrong-arity', 'contains() takes 2 arguments, got 1 at 10'],
    [
      'steps.__proto__.x == 1',
      'forbidden-property',
      'property "__proto__" cannot be read at 6; conditions read only plain data',
    ],
    [
      'steps.a["__proto__"] == 1',
      'forbidden-property',
      'property "__proto__" cannot be read at 8; conditions read only plain data',
    ],
    [
      'steps.a.constructor.constructor',
      'forbidden-property',
      'property "constructor" cannot be read at 8; conditions read only plain data',
    ],
    [
      'request.prototype == null',
      'forbidden-property',
      'property "prototype" cannot be read at 8; conditions read only plain data',
    ],
    [
      'constructor.constructor("return process")()',
      'forbidden-property',
      'property "constructor" cannot be read at 0; conditions read only plain data',
    ],
    [
      '__proto__ == null',
      'forbidden-property',
      'property "__proto__" cannot be read at 0; conditions read only plain data',
    ],
    [
      'steps.a.b[-1] == 1',
      'invalid-index',
      'invalid array index -1 at 10; an index is a non-negative integer',
    ],
    [
      'steps.a.b[1.5] == 1',
      'invalid-index',
      'invalid array index 1.5 at 10; an index is a non-negative integer',
    ],
    [
      'steps.a.b[1e20] == 1',
      'invalid-index',
      'invalid array index 1e20 at 10; an index is a non-negative integer',
    ],
    [
      'steps.a.b() == 1',
      'method-call',
      'method calls are not allowed at 9; only the functions len, lower, upper, contains, startsWith, exists can be called, by name',
    ],
    [
      'request.keywords.includes("oauth")',
      'method-call',
      'method calls are not allowed at 25; only the functions len, lower, upper, contains, startsWith, exists can be called, by name',
    ],
    [
      'steps == null',
      'invalid-step-reference',
      '"steps" must be followed by a step id at 0; write e.g. steps.design.output or steps["design"]',
    ],
    [
      'steps[0].state == "failed"',
      'invalid-step-reference',
      '"steps" must be followed by a step id at 0; write e.g. steps.design.output or steps["design"]',
    ],
    [
      '"design" in steps',
      'invalid-step-reference',
      '"steps" must be followed by a step id at 12; write e.g. steps.design.output or steps["design"]',
    ],
    [
      '1 < 2 < 3',
      'chained-comparison',
      'comparison "<" cannot follow another comparison at 6; combine comparisons with && and parentheses',
    ],
    [
      'true == false == false',
      'chained-comparison',
      'comparison "==" cannot follow another comparison at 14; combine comparisons with && and parentheses',
    ],
    [
      '1 < 2 == true',
      'chained-comparison',
      'comparison "==" cannot follow another comparison at 6; combine comparisons with && and parentheses',
    ],
    [
      '"a" in request.keywords not in [true]',
      'chained-comparison',
      'comparison "not in" cannot follow another comparison at 24; combine comparisons with && and parentheses',
    ],
  ])('%j → %s', (source, code, message) => {
    const error = syntaxError(source);
    expect(error).toBeInstanceOf(ConditionSyntaxError);
    expect(error.code).toBe(code);
    if (message) expect(error.message).toBe(message);
  });

  test('long tokens are shortened in messages', () => {
    const error = syntaxError('1 == 1 "a very long string that goes on and on"');
    expect(error.message).toBe(
      'unexpected string "a very long string that …" at 7; expected an operator or the end of the condition',
    );
  });

  test('errors carry code, position and name, and are ConditionErrors', () => {
    const error = syntaxError('(steps.a == 1))');
    expect(error).toBeInstanceOf(ConditionError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'ConditionSyntaxError',
      code: 'unexpected-token',
      position: 14,
    });
  });

  test('rejects a source that is not a string', () => {
    const error = errorOf(() => parseCondition(42 as unknown as string));
    expect(error).toMatchObject({
      code: 'invalid-source',
      message: 'condition must be a string, got number',
      position: undefined,
    });
  });

  test('roots can be chosen; invalid roots are a programming error', () => {
    const compiled = parseCondition('inputs.flag == true && steps.a.ok == true', {
      roots: ['steps', 'inputs'],
    });
    expect(
      evaluateCondition(compiled, { inputs: { flag: true }, steps: { a: { ok: true } } }),
    ).toBe(true);
    expect(
      errorOf(() => parseCondition('request.x == 1', { roots: ['steps', 'inputs'] })).message,
    ).toBe('unknown name "request" at 0; a condition may read steps, inputs');
    expect(() => parseCondition('true', { roots: ['__proto__'] })).toThrow(RangeError);
    expect(() => parseCondition('true', { roots: ['a.b'] })).toThrow(RangeError);
  });
});

describe('limits against hostile input', () => {
  const { maxSourceLength, maxDepth, maxNodes, maxStringLength } = CONDITION_LIMITS;

  test('accepts a source of exactly the maximum length and rejects one character more', () => {
    const padded = (length: number) => 'true' + ' '.repeat(length - 4);
    expect(run(padded(maxSourceLength))).toBe(true);
    expect(syntaxError(padded(maxSourceLength + 1))).toMatchObject({
      code: 'too-long',
      message: `condition is ${maxSourceLength + 1} characters long; the limit is ${maxSourceLength}`,
    });
  });

  test.each([
    ['a million characters', 'a'.repeat(1_000_000)],
    ['a million opening parentheses', '('.repeat(1_000_000)],
    ['a million-character string literal', `"${'a'.repeat(1_000_000)}"`],
    ['a million backslashes', `"${'\\'.repeat(1_000_000)}"`],
  ])('rejects %s by length before reading it, quickly', (_name, source) => {
    const started = performance.now();
    expect(syntaxError(source).code).toBe('too-long');
    expect(performance.now() - started).toBeLessThan(50);
  });

  test.each<[string, (depth: number) => string]>([
    ['parentheses', (depth) => `${'('.repeat(depth)}true${')'.repeat(depth)}`],
    ['not', (depth) => `${'not '.repeat(depth)}true`],
    ['!', (depth) => `${'!'.repeat(depth)}true`],
    ['array literals', (depth) => `${'['.repeat(depth)}${']'.repeat(depth)} != null`],
    ['calls', (depth) => `${'exists('.repeat(depth)}null${')'.repeat(depth)}`],
  ])('nesting of %s: %i levels pass, one more is too deep', (_name, build) => {
    expect(() => parseCondition(build(maxDepth))).not.toThrow();
    const error = syntaxError(build(maxDepth + 1));
    expect(error.code).toBe('too-deep');
    expect(error.message).toMatch(/^condition is nested more than 32 levels deep at \d+$/);
  });

  test('deep nesting stops at the 33rd level, long before the end of the input', () => {
    const source = `${'('.repeat(900)}true${')'.repeat(900)}`;
    expect(syntaxError(source)).toMatchObject({
      code: 'too-deep',
      position: maxDepth,
      message: 'condition is nested more than 32 levels deep at 32',
    });
    expect(syntaxError('['.repeat(1_500)).code).toBe('too-deep');
  });

  test('too many nodes', () => {
    const chain = (count: number) => Array.from({ length: count }, () => '1').join('||');
    expect(() => parseCondition(chain(maxNodes - 1))).not.toThrow();
    expect(syntaxError(chain(maxNodes + 1))).toMatchObject({
      code: 'too-many-nodes',
      message: `condition has more than ${maxNodes} nodes at ${maxNodes * 3}`,
    });
    const bigArray = `1 in [${Array.from({ length: 600 }, () => 0).join(',')}]`;
    expect(syntaxError(bigArray).code).toBe('too-many-nodes');
    const longPath = `request${'.a'.repeat(600)} == null`;
    expect(syntaxError(longPath).code).toBe('too-many-nodes');
  });

  test('string literals of at most the maximum length', () => {
    expect(run(`len("${'x'.repeat(maxStringLength)}") == ${maxStringLength}`)).toBe(true);
    expect(run(`len("${'\\n'.repeat(maxStringLength)}") == ${maxStringLength}`)).toBe(true);
    expect(syntaxError(`"${'x'.repeat(maxStringLength + 1)}" == ""`)).toMatchObject({
      code: 'string-too-long',
      message: `string literal is longer than ${maxStringLength} characters at 0`,
    });
  });

  test('numbers that are not finite JSON numbers', () => {
    expect(syntaxError('1e309 > 0').code).toBe('number-out-of-range');
    expect(syntaxError(`${'9'.repeat(400)} > 0`)).toMatchObject({
      code: 'number-out-of-range',
      message: `number ${'9'.repeat(32)}… is out of range at 0`,
    });
    expect(syntaxError('NaN != NaN').code).toBe('unknown-name');
    expect(syntaxError('-Infinity < 0').code).toBe('unexpected-character');
    expect(run('1e308 > 1e307')).toBe(true);
    expect(run('5e-324 > 0')).toBe(true);
    expect(run('1e-400 == 0')).toBe(true);
  });

  test('the evaluation budget stops work on huge context values', () => {
    const items = Array.from({ length: 200_000 }, (_, index) => index);
    const data = { steps: { big: { output: { items } } } };
    const error = evaluationError('-1 in steps.big.output.items', data);
    expect(error).toMatchObject({
      name: 'ConditionEvaluationError',
      code: 'step-budget-exceeded',
      position: undefined,
      message: `evaluation took more than ${CONDITION_LIMITS.stepBudget} steps; simplify the condition or compare smaller values`,
    });
    expect(run('0 in steps.big.output.items', data)).toBe(true);
    expect(run('len(steps.big.output.items) == 200000', data)).toBe(true);
    const bigText = { request: { text: 'a'.repeat(200_000) } };
    expect(run('"b" not in request.text', bigText)).toBe(true);
  });

  test('the step budget can be lowered per evaluation and must be a positive integer', () => {
    const compiled = parseCondition('1 in [1, 2, 3] && 2 in [1, 2, 3] && 3 in [1, 2, 3]');
    expect(evaluateCondition(compiled, context, { stepBudget: 100 })).toBe(true);
    expect(errorOf(() => evaluateCondition(compiled, context, { stepBudget: 10 })).code).toBe(
      'step-budget-exceeded',
    );
    expect(() => evaluateCondition(compiled, context, { stepBudget: 0 })).toThrow(RangeError);
    expect(() => evaluateCondition(compiled, context, { stepBudget: Number.NaN })).toThrow(
      RangeError,
    );
  });

  test('cyclic or very deep context values stop with value-too-deep', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const data = { steps: { a: { output: cyclic }, b: { output: cyclic } } };
    expect(evaluationError('steps.a.output == steps.b.output', data)).toMatchObject({
      code: 'value-too-deep',
      message: 'compared values are nested more than 64 levels deep at 15',
      position: 15,
    });
    expect(run('steps.a.output.self.self.self.name == "loop"', data)).toBe(true);
    expect(run('len(steps.a.output) == 2', data)).toBe(true);
  });
});

describe('prototype pollution and other hostile context data', () => {
  test('JSON with a "__proto__" key can be neither read nor used to pollute', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object;
    const data = { steps: { a: { output: parsed } } };
    expect(run('"__proto__" in steps.a.output', data)).toBe(false);
    expect(run('steps.a.output.polluted == null', data)).toBe(true);
    expect(run('len(steps.a.output) == 1', data)).toBe(true);
    expect(run('steps.a.output == steps.a.output', data)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('"constructor" and "prototype" keys in data read as absent', () => {
    const data = { request: { constructor: 'x', prototype: 'y', keep: 'z' } };
    expect(run('"constructor" in request', data)).toBe(false);
    expect(run('"prototype" in request', data)).toBe(false);
    expect(run('"keep" in request', data)).toBe(true);
    expect(run('len(request) == 1', data)).toBe(true);
  });

  test('inherited properties, getters and non-JSON values read as null and run no code', () => {
    let getterCalls = 0;
    const withGetter = {};
    Object.defineProperty(withGetter, 'secret', {
      enumerable: true,
      get: () => {
        getterCalls += 1;
        return true;
      },
    });
    const data = {
      request: {
        getter: withGetter,
        inherited: Object.create({ flag: true }) as object,
        date: new Date(0),
        map: new Map([['a', 1]]),
        fn: () => true,
        symbol: Symbol('s'),
        bigint: BigInt(1),
        undefinedValue: undefined,
        nan: Number.NaN,
        infinity: Number.POSITIVE_INFINITY,
        nullPrototype: Object.assign(Object.create(null) as object, { ok: true }),
      },
    };
    expect(run('request.getter.secret == null', data)).toBe(true);
    expect(run('"secret" in request.getter', data)).toBe(false);
    expect(getterCalls).toBe(0);
    expect(
      run('request.inherited == null && request.date == null && request.map == null', data),
    ).toBe(true);
    expect(
      run('request.fn == null && request.symbol == null && request.bigint == null', data),
    ).toBe(true);
    expect(
      run(
        'request.undefinedValue == null && request.nan == null && request.infinity == null',
        data,
      ),
    ).toBe(true);
    expect(run('request.nan != request.nan', data)).toBe(false);
    expect(run('request.nullPrototype.ok == true', data)).toBe(true);
  });

  test('evaluation never modifies the context', () => {
    const frozen = JSON.parse(JSON.stringify(context)) as typeof context;
    const deepFreeze = (value: unknown): void => {
      if (typeof value !== 'object' || value === null) return;
      Object.freeze(value);
      Object.values(value).forEach(deepFreeze);
    };
    deepFreeze(frozen);
    expect(run('len(steps.design.output.files) == 2 && lower(request.title) != ""', frozen)).toBe(
      true,
    );
    expect(frozen).toEqual(context);
  });
});

describe('evaluateCondition: evaluation errors', () => {
  test.each<[string, string, string]>([
    [
      'not steps.review.missing',
      'type-mismatch',
      '"not" needs a boolean operand, got null at 4; compare explicitly (== true, != null) or test with exists(...)',
    ],
    [
      '!steps.test.output.passed',
      'type-mismatch',
      '"not" needs a boolean operand, got number at 1; compare explicitly (== true, != null) or test with exists(...)',
    ],
    [
      'steps.design.output.files && true',
      'type-mismatch',
      '"and" needs a boolean operand, got array at 0; compare explicitly (== true, != null) or test with exists(...)',
    ],
    [
      'false || request',
      'type-mismatch',
      '"or" needs a boolean operand, got object at 9; compare explicitly (== true, != null) or test with exists(...)',
    ],
    [
      'true and "yes"',
      'type-mismatch',
      '"and" needs a boolean operand, got string at 9; compare explicitly (== true, != null) or test with exists(...)',
    ],
    [
      'steps.design.output.files',
      'non-boolean-result',
      'condition must give a boolean, got array at 0; compare explicitly, e.g. steps.review.output.approved == true',
    ],
    [
      'len("abc")',
      'non-boolean-result',
      'condition must give a boolean, got number at 0; compare explicitly, e.g. steps.review.output.approved == true',
    ],
    [
      'steps.missing.output',
      'non-boolean-result',
      'condition must give a boolean, got null at 0; compare explicitly, e.g. steps.review.output.approved == true',
    ],
    [
      '"true"',
      'non-boolean-result',
      'condition must give a boolean, got string at 0; compare explicitly, e.g. steps.review.output.approved == true',
    ],
    [
      '  null',
      'non-boolean-result',
      'condition must give a boolean, got null at 2; compare explicitly, e.g. steps.review.output.approved == true',
    ],
  ])('%j → %s', (source, code, message) => {
    const error = evaluationError(source);
    expect(error).toBeInstanceOf(ConditionEvaluationError);
    expect(error).toMatchObject({ code, message });
  });

  test('the context must be a plain object', () => {
    const compiled = parseCondition('true');
    for (const [bad, type] of [
      [null, 'null'],
      [[], 'array'],
      ['steps', 'string'],
      [new Map(), 'non-plain object'],
    ] as const) {
      expect(
        errorOf(() => evaluateCondition(compiled, bad as unknown as ConditionContext)),
      ).toMatchObject({
        code: 'invalid-context',
        message: `context must be a plain object, got ${type}`,
      });
    }
  });

  test('rejects anything that did not come from parseCondition', () => {
    const forged = (ast: unknown) =>
      errorOf(() => evaluateCondition({ source: 'x', ast } as CompiledCondition, context));
    expect(errorOf(() => evaluateCondition({} as CompiledCondition, context))).toMatchObject({
      code: 'invalid-condition',
      message: 'not a condition from parseCondition',
    });
    expect(forged({ kind: 'script', code: 'process.exit()' })).toMatchObject({
      code: 'invalid-condition',
      message: 'not a condition from parseCondition: unknown node kind "script"',
    });
    expect(forged({ kind: 'call', name: 'eval', args: [], position: 0 }).message).toBe(
      'not a condition from parseCondition: unknown function "eval"',
    );
    expect(
      forged({
        kind: 'comparison',
        operator: '===',
        left: { kind: 'literal', value: 1 },
        right: { kind: 'literal', value: 1 },
      }).message,
    ).toBe('not a condition from parseCondition: unknown operator "==="');
    expect(forged({ kind: 'logical', operator: 'and', operands: 5 }).code).toBe(
      'invalid-condition',
    );
    let deep: unknown = { kind: 'literal', value: true };
    for (let level = 0; level < 10_000; level += 1) deep = { kind: 'not', operand: deep };
    expect(forged(deep)).toMatchObject({
      code: 'invalid-condition',
      message: 'not a condition from parseCondition: the AST is nested too deeply',
    });
  });

  test('a hand-made AST still cannot read forbidden properties', () => {
    const ast: ConditionNode = {
      kind: 'comparison',
      operator: '==',
      left: { kind: 'path', root: 'request', segments: ['__proto__', 'toString'], position: 0 },
      right: { kind: 'literal', value: null, position: 0 },
      position: 0,
      operatorPosition: 0,
    };
    expect(evaluateCondition({ source: '', ast }, context)).toBe(true);
    const rootAst: ConditionNode = {
      ...ast,
      left: { kind: 'path', root: 'constructor', segments: [], position: 0 },
    };
    expect(evaluateCondition({ source: '', ast: rootAst }, { constructor: 1 })).toBe(true);
  });
});

describe('determinism', () => {
  const sources = [
    'steps.security.output.severity != "high" && steps.test.state == "succeeded"',
    'len(steps.design.output.files) > 0 or "oauth" in request.keywords',
    'not exists(steps.missing) and lower(request.title) != upper(request.title)',
  ];

  test.each(sources)('parsing %j twice gives equal, frozen ASTs', (source) => {
    const first = parseCondition(source);
    const second = parseCondition(source);
    expect(second).toEqual(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.ast)).toBe(true);
  });

  test.each(sources)('evaluating %j many times gives the same result', (source) => {
    const compiled = parseCondition(source);
    const results = new Set(
      Array.from({ length: 200 }, () => evaluateCondition(compiled, context)),
    );
    expect(results.size).toBe(1);
  });

  test('errors repeat exactly, too', () => {
    const compiled = parseCondition('not steps.review.missing');
    const messages = new Set(
      Array.from({ length: 50 }, () => errorOf(() => evaluateCondition(compiled, context)).message),
    );
    expect(messages.size).toBe(1);
  });

  test('a compiled condition survives a JSON round trip (workflow state, history)', () => {
    for (const source of sources) {
      const compiled = parseCondition(source);
      const copy = JSON.parse(JSON.stringify(compiled)) as CompiledCondition;
      expect(evaluateCondition(copy, context)).toBe(evaluateCondition(compiled, context));
      expect(referencedSteps(copy)).toEqual(referencedSteps(compiled));
    }
  });
});

describe('referencedSteps', () => {
  test.each<[string, string[]]>([
    [
      'steps.security.output.severity != "high" && steps.test.state == "succeeded"',
      ['security', 'test'],
    ],
    ['steps["design"].output == null', ['design']],
    ['steps.b.x == 1 || steps.a.x == 1 || steps.b.y == 2', ['b', 'a']],
    ['not (len(steps.code.output.files) > 0 and "x" in steps.docs.output)', ['code', 'docs']],
    [
      'contains(lower(steps.review.output.summary), "ok") && exists(steps.test)',
      ['review', 'test'],
    ],
    [
      'steps.security-review.state == "skipped" && steps.1st.state == "ok"',
      ['security-review', '1st'],
    ],
    ['steps.a.b.c.d.e == steps.a.x', ['a']],
    ['request.steps.design == null', []],
    ['"steps.design" in request.keywords', []],
    ['true', []],
  ])('%j → %j', (source, expected) => {
    expect(referencedSteps(parseCondition(source))).toEqual(expected);
  });

  test('returns a fresh array each time', () => {
    const compiled = parseCondition('steps.a.ok == true');
    const first = referencedSteps(compiled);
    first.push('mutated');
    expect(referencedSteps(compiled)).toEqual(['a']);
  });
});
