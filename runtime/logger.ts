import pino, { type DestinationStream, type Logger } from 'pino';
import { traceLogFields } from './tracing/spans';

export type { Logger };

export interface LoggerOptions {
  level: string;
  name: string;
  /** Where lines go; stdout unless set (tests pass a stream to read the lines back). */
  destination?: DestinationStream;
  /** Add `trace_id`/`span_id` of the active span to every line (with tracing on). */
  traceIds?: boolean;
}

/** How deep `serializeErrors` looks for Error objects inside a log line's fields. */
const ERROR_SEARCH_DEPTH = 4;

/**
 * Structured JSON logs (pino); credentials never reach them: `redact` strips known fields.
 *
 * Error objects keep their message, type, stack and cause chain under any field name and up to
 * a few levels deep (`{ error }`, `{ err }`, `{ details: { cause } }`), also Errors from another
 * realm (the workflow sandbox). Plain `JSON.stringify` would write them as `{}`: an Error's
 * fields are not enumerable.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      serializers: { err: pino.stdSerializers.errWithCause },
      ...(options.traceIds ? { mixin: traceLogFields } : {}),
      formatters: { log: (fields) => serializeErrors(fields, ERROR_SEARCH_DEPTH) },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.secretAccessKey',
          '*.sessionToken',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
}

/** True for Error instances of any realm and error-shaped objects (message and stack). */
export function isErrorLike(value: unknown): value is Error {
  if (value instanceof Error) return true;
  if (!value || typeof value !== 'object') return false;
  const candidate = value as { message?: unknown; stack?: unknown };
  return (
    Object.prototype.toString.call(value) === '[object Error]' ||
    (typeof candidate.message === 'string' && typeof candidate.stack === 'string')
  );
}

/**
 * A copy of `fields` in which every Error (to `depth` levels) is replaced by pino's serialised
 * form: `{ type, message, stack, cause?, ...own fields }`. Other values are kept as they are.
 */
export function serializeErrors(
  fields: Record<string, unknown>,
  depth: number,
): Record<string, unknown> {
  const visit = (value: unknown, level: number): unknown => {
    if (isErrorLike(value)) return pino.stdSerializers.errWithCause(value);
    // pino's own `err` serializer handles the top-level `err` field (serialising it twice
    // would lose its type).
    if (level === 0 && value && typeof value === 'object' && 'err' in value) {
      const { err, ...rest } = value as Record<string, unknown>;
      return { ...(visit(rest, 0) as Record<string, unknown>), err };
    }
    if (level >= depth || !value || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      return value.some((item) => containsError(item, depth - level - 1))
        ? value.map((item) => visit(item, level + 1))
        : value;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
      return value;
    if (!containsError(value, depth - level)) return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, entry]) => [
        key,
        visit(entry, level + 1),
      ]),
    );
  };
  return visit(fields, 0) as Record<string, unknown>;
}

/** Whether an Error sits in `value` within `depth` levels (copies are made only then). */
function containsError(value: unknown, depth: number): boolean {
  if (isErrorLike(value)) return true;
  if (depth <= 0 || !value || typeof value !== 'object') return false;
  const entries = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
  return entries.some((entry) => containsError(entry, depth - 1));
}

/** One log entry of the Temporal SDK's `DefaultLogger` (structurally; no SDK import here). */
export interface TemporalLogEntry {
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  message: string;
  meta?: Record<string, unknown>;
}

const TEMPORAL_LEVELS = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const;

/**
 * The function to hand to the Temporal SDK's `new DefaultLogger(level, fn)`, so worker and
 * workflow logs (e.g. "Workflow failed" with its `error`) reach `logger` with errors intact.
 */
export function temporalLogFunction(logger: Logger): (entry: TemporalLogEntry) => void {
  return (entry) => {
    logger[TEMPORAL_LEVELS[entry.level]](entry.meta ?? {}, entry.message);
  };
}
