import { FORBIDDEN_PROPERTY_NAMES } from './limits';

/** An object read from the context: only its own data properties are ever looked at. */
export type ConditionObject = { readonly [key: string]: unknown };

/**
 * A value as the condition language sees it: JSON data. Arrays and objects are the context's
 * own (never copied); their members are normalised when read.
 */
export type ConditionValue =
  null | boolean | number | string | readonly unknown[] | ConditionObject;

export type ConditionValueType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

/**
 * An object whose prototype is `Object.prototype` (of any realm) or null: what `JSON.parse`
 * builds. Class instances (Date, Map, ...) are not plain data.
 */
/** `Array.isArray` that also narrows readonly arrays. */
export function isArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

export function isPlainObject(value: unknown): value is ConditionObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * The JSON view of any value: undefined, functions, symbols, bigints, non-finite numbers and
 * non-plain objects read as null; everything else is returned as is.
 */
export function toConditionValue(value: unknown): ConditionValue {
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'object':
      if (isArray(value)) return value;
      return isPlainObject(value) ? value : null;
    default:
      return null;
  }
}

export function typeOf(value: ConditionValue): ConditionValueType {
  if (value === null) return 'null';
  if (isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

/**
 * An own, enumerable data property (never a getter, never inherited), or undefined when there
 * is none. Reads through no prototype and runs no code of the context.
 */
export function ownDataValue(container: object, key: string): ConditionValue | undefined {
  const descriptor = Object.getOwnPropertyDescriptor(container, key);
  if (descriptor === undefined || !descriptor.enumerable || !('value' in descriptor)) {
    return undefined;
  }
  return toConditionValue(descriptor.value);
}

/** `"0"`, `"12"` as an index; anything else (`"01"`, `"-1"`, `"length"`) is not an index. */
function indexOf(key: string | number): number | undefined {
  if (typeof key === 'number') return Number.isSafeInteger(key) && key >= 0 ? key : undefined;
  if (key.length === 0 || key.length > 15) return undefined;
  if (key.length > 1 && key.startsWith('0')) return undefined;
  for (const character of key) if (character < '0' || character > '9') return undefined;
  return Number(key);
}

/**
 * One path segment: an array's element by index, a plain object's own data property by name.
 * Everything else — a missing key, a forbidden name, a segment into a string, number,
 * boolean or null, `length` of an array — reads as null. Never throws.
 */
export function readMember(container: ConditionValue, key: string | number): ConditionValue {
  if (typeof key === 'string' && FORBIDDEN_PROPERTY_NAMES.has(key)) return null;
  if (isArray(container)) {
    const index = indexOf(key);
    if (index === undefined || index >= container.length) return null;
    return ownDataValue(container, String(index)) ?? null;
  }
  if (isPlainObject(container)) return ownDataValue(container, String(key)) ?? null;
  return null;
}

/** Own enumerable string keys of a plain object, forbidden names left out. */
export function keysOf(object: ConditionObject): string[] {
  return Object.keys(object).filter((key) => !FORBIDDEN_PROPERTY_NAMES.has(key));
}

/** Number of Unicode code points (so an emoji counts as one character). */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let index = 0; index < text.length - 1; index += 1) {
    const code = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      length -= 1;
      index += 1;
    }
  }
  return length;
}
