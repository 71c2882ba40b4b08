import { ConditionSyntaxError } from './errors';
import { CONDITION_LIMITS } from './limits';

export type SymbolText =
  '(' | ')' | '[' | ']' | ',' | '.' | '!' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

/** One lexical token; `position` is the offset of its first character. */
export type Token =
  | {
      readonly kind: 'number';
      readonly value: number;
      readonly raw: string;
      readonly position: number;
    }
  | { readonly kind: 'string'; readonly value: string; readonly position: number }
  | { readonly kind: 'name'; readonly value: string; readonly position: number }
  | { readonly kind: 'symbol'; readonly value: SymbolText; readonly position: number }
  | { readonly kind: 'end'; readonly position: number };

const TWO_CHARACTER_SYMBOLS: ReadonlySet<string> = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const ONE_CHARACTER_SYMBOLS: ReadonlySet<string> = new Set([
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '!',
  '<',
  '>',
]);
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ["'", "'"],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);
/** Invisible characters that reorder displayed text ("Trojan Source"); allowed only as escapes. */
const BIDI_CONTROLS: ReadonlySet<number> = new Set([
  0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

const isDigit = (character: string): boolean => character >= '0' && character <= '9';
const isLetter = (character: string): boolean =>
  (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z');
const isNameStart = (character: string): boolean => isLetter(character) || character === '_';
const isNamePart = (character: string): boolean =>
  isNameStart(character) || isDigit(character) || character === '-';
const isHexDigit = (character: string): boolean =>
  isDigit(character) ||
  (character >= 'a' && character <= 'f') ||
  (character >= 'A' && character <= 'F');
const isWhitespace = (character: string): boolean =>
  character === ' ' || character === '\t' || character === '\n' || character === '\r';

/** `"é" (U+00E9)`: a code point shown safely for an error message (control characters escaped). */
export function describeCharacter(source: string, position: number): string {
  const codePoint = source.codePointAt(position) ?? 0;
  const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(String.fromCodePoint(codePoint))} (U+${hex})`;
}

/**
 * Splits a condition's source into tokens, ending with one `end` token. Names are
 * `[A-Za-z_][A-Za-z0-9_-]*`; right after `.` a name may also start with a digit (step ids such
 * as `steps.1st`). Throws {@link ConditionSyntaxError} at the first bad character, string or
 * number. Runs in one pass, linear in the source length.
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const character = source.charAt(index);
    if (isWhitespace(character)) {
      index += 1;
      continue;
    }
    const start = index;
    const previous = tokens.at(-1);
    const afterDot = previous?.kind === 'symbol' && previous.value === '.';
    if (isNameStart(character) || (afterDot && isDigit(character))) {
      while (index < source.length && isNamePart(source.charAt(index))) index += 1;
      tokens.push({ kind: 'name', value: source.slice(start, index), position: start });
    } else if (isDigit(character) || (character === '-' && isDigit(source.charAt(index + 1)))) {
      const number = readNumber(source, start);
      tokens.push(number);
      index = start + number.raw.length;
    } else if (character === '"' || character === "'") {
      const literal = readString(source, start);
      tokens.push({ kind: 'string', value: literal.value, position: start });
      index = literal.end;
    } else if (TWO_CHARACTER_SYMBOLS.has(source.slice(index, index + 2))) {
      tokens.push({
        kind: 'symbol',
        value: source.slice(index, index + 2) as SymbolText,
        position: start,
      });
      index += 2;
    } else if (ONE_CHARACTER_SYMBOLS.has(character)) {
      tokens.push({ kind: 'symbol', value: character as SymbolText, position: start });
      index += 1;
    } else {
      throw unexpectedCharacter(source, start);
    }
  }
  tokens.push({ kind: 'end', position: source.length });
  return tokens;
}

function unexpectedCharacter(source: string, position: number): ConditionSyntaxError {
  const character = source.charAt(position);
  const hint =
    character === '='
      ? 'use == to compare'
      : character === '&'
        ? 'use && or and'
        : character === '|'
          ? 'use || or or'
          : undefined;
  return new ConditionSyntaxError(
    'unexpected-character',
    `unexpected character ${describeCharacter(source, position)}`,
    position,
    hint,
  );
}

/** JSON number syntax: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, finite. */
function readNumber(source: string, start: number): Token & { kind: 'number' } {
  let index = start;
  const digits = (): number => {
    const from = index;
    while (isDigit(source.charAt(index))) index += 1;
    return index - from;
  };
  const invalid = (problem: string, hint?: string): ConditionSyntaxError =>
    new ConditionSyntaxError('invalid-number', problem, start, hint);
  if (source.charAt(index) === '-') index += 1;
  const integerStart = index;
  const integerDigits = digits();
  if (integerDigits > 1 && source.charAt(integerStart) === '0') {
    throw invalid(
      `invalid number "${source.slice(start, index)}"`,
      'leading zeros are not allowed',
    );
  }
  if (source.charAt(index) === '.') {
    index += 1;
    if (digits() === 0)
      throw invalid(`invalid number "${source.slice(start, index)}"`, 'digits must follow "."');
  }
  if (source.charAt(index) === 'e' || source.charAt(index) === 'E') {
    index += 1;
    if (source.charAt(index) === '+' || source.charAt(index) === '-') index += 1;
    if (digits() === 0)
      throw invalid(`invalid number "${source.slice(start, index)}"`, 'the exponent has no digits');
  }
  if (isNamePart(source.charAt(index)) || source.charAt(index) === '.') {
    let end = index;
    while (
      end < source.length &&
      end - start < 32 &&
      (isNamePart(source.charAt(end)) || source.charAt(end) === '.')
    )
      end += 1;
    throw invalid(`invalid number "${source.slice(start, end)}"`);
  }
  const raw = source.slice(start, index);
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    throw new ConditionSyntaxError(
      'number-out-of-range',
      `number ${raw.length > 32 ? `${raw.slice(0, 32)}…` : raw} is out of range`,
      start,
    );
  }
  return { kind: 'number', value, raw, position: start };
}

/** A string in double or single quotes with JSON escapes plus `\'`; no raw line breaks. */
function readString(source: string, start: number): { value: string; end: number } {
  const quote = source.charAt(start);
  const parts: string[] = [];
  let length = 0;
  let index = start + 1;
  const append = (text: string): void => {
    length += text.length;
    if (length > CONDITION_LIMITS.maxStringLength) {
      throw new ConditionSyntaxError(
        'string-too-long',
        `string literal is longer than ${CONDITION_LIMITS.maxStringLength} characters`,
        start,
      );
    }
    parts.push(text);
  };
  for (;;) {
    if (index >= source.length) {
      throw new ConditionSyntaxError('unterminated-string', 'unterminated string literal', start);
    }
    const character = source.charAt(index);
    if (character === quote) return { value: parts.join(''), end: index + 1 };
    if (character === '\n' || character === '\r') {
      throw new ConditionSyntaxError(
        'unterminated-string',
        'unterminated string literal',
        start,
        'write line breaks as \\n',
      );
    }
    const code = character.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || BIDI_CONTROLS.has(code)) {
      throw new ConditionSyntaxError(
        'unexpected-character',
        `unexpected character ${describeCharacter(source, index)} in a string literal`,
        index,
        'write it as a \\uXXXX escape',
      );
    }
    if (character !== '\\') {
      append(character);
      index += 1;
      continue;
    }
    const escape = source.charAt(index + 1);
    if (escape === '') {
      throw new ConditionSyntaxError('unterminated-string', 'unterminated string literal', start);
    }
    const simple = SIMPLE_ESCAPES.get(escape);
    if (simple !== undefined) {
      append(simple);
      index += 2;
    } else if (
      escape === 'u' &&
      [2, 3, 4, 5].every((offset) => isHexDigit(source.charAt(index + offset)))
    ) {
      append(String.fromCharCode(Number.parseInt(source.slice(index + 2, index + 6), 16)));
      index += 6;
    } else {
      let end = index + 2;
      while (escape === 'u' && end < index + 6 && isHexDigit(source.charAt(end))) end += 1;
      const shown = source.slice(index, end);
      throw new ConditionSyntaxError(
        'invalid-escape',
        `invalid escape ${JSON.stringify(shown)}`,
        index,
      );
    }
  }
}
