/**
 * Hand-made spans where no instrumentation package is installed: a function run inside a span,
 * the DynamoDB client's commands (an AWS SDK middleware) and ioredis commands. Each is a plain
 * call when tracing is off (`tracingActive()` is false): no span, no wrapper.
 */
import {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tracingActive } from './tracing-sdk';

/** The tracer of the platform's own spans. */
export const tracer = () => trace.getTracer('t-developer');

/**
 * Runs `fn` inside a new active span named `name` (a child of the active span), ends it when
 * `fn` settles and marks it failed with the error's message when `fn` throws. Off: `fn()`.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span?: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracingActive()) return fn();
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function markFailed(span: Span, error: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  if (error instanceof Error) span.recordException(error);
}

/**
 * A client span per DynamoDB command (`DynamoDB.PutItem`, ...) with `db.system`, parented to
 * the active span. Added only while tracing is active; table names and keys are not recorded.
 */
export function traceDynamoClient(client: DynamoDBClient): void {
  if (!tracingActive()) return;
  client.middlewareStack.add(
    (next, handlerContext) => (args) => {
      const operation = (handlerContext.commandName ?? 'Command').replace(/Command$/, '');
      return withSpan(
        `DynamoDB.${operation}`,
        { 'db.system': 'dynamodb', 'db.operation': operation, 'rpc.service': 'DynamoDB' },
        () => next(args),
        SpanKind.CLIENT,
      );
    },
    { step: 'initialize', name: 'tdevTracing', override: true },
  );
}

/** What `traceRedis` needs of an ioredis client. */
interface RedisLike {
  sendCommand(command: RedisCommandLike, ...rest: unknown[]): unknown;
}
interface RedisCommandLike {
  name: string;
  promise: Promise<unknown>;
}

/**
 * A client span per Redis command (`redis GET`, ...) parented to the active span, ended when the
 * reply (or error) arrives. Arguments are not recorded (they hold keys and payloads). Only while
 * tracing is active; returns the same client.
 */
export function traceRedis<T extends RedisLike>(redis: T): T {
  if (!tracingActive()) return redis;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command: RedisCommandLike, ...rest: unknown[]) => {
    const span = tracer().startSpan(
      `redis ${command.name}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system': 'redis', 'db.operation': command.name },
      },
      context.active(),
    );
    const result = send(command, ...rest);
    command.promise.then(
      () => span.end(),
      (error: unknown) => {
        markFailed(span, error);
        span.end();
      },
    );
    return result;
  };
  return redis;
}

/**
 * `trace_id` and `span_id` of the active span, for log lines (pino's `mixin`); `{}` when no
 * span is active or tracing is off.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  if (!tracingActive()) return {};
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
