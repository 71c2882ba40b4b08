/**
 * runtime/tracing without a trace backend: when tracing is on, off costing nothing, and the
 * workflow sink turning the sandbox's 1.x-shaped spans into what the 2.x span processor and
 * OTLP exporter read (the end-to-end check against Jaeger is test/integration/tracing.test.ts).
 */
import { TraceFlags } from '@opentelemetry/api';
import type { resources, tracing as sdkTracing } from '@opentelemetry/sdk-node';
import { resources as sdkResources } from '@opentelemetry/sdk-node';
import {
  traceLogFields,
  traceRedis,
  tracingActive,
  tracingEnabled,
  withSpan,
  workerTracing,
  type Tracing,
} from '../../runtime/tracing';

test('tracing is on with an OTLP endpoint or TRACING_ENABLED, and TRACING_ENABLED=false wins', () => {
  expect(tracingEnabled({})).toBe(false);
  expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
  expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
  expect(tracingEnabled({ TRACING_ENABLED: 'true' })).toBe(true);
  expect(tracingEnabled({ TRACING_ENABLED: '1' })).toBe(true);
  expect(
    tracingEnabled({ TRACING_ENABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }),
  ).toBe(false);
});

test('off: no span, no log fields, Redis left as it is, and a no-op workflow sink', async () => {
  expect(tracingActive()).toBe(false);
  const seen: unknown[] = [];
  await expect(
    withSpan('unused', {}, (span) => {
      seen.push(span);
      return Promise.resolve(42);
    }),
  ).resolves.toBe(42);
  expect(seen).toEqual([undefined]);
  expect(traceLogFields()).toEqual({});
  const sendCommand = () => undefined;
  const redis = { sendCommand };
  expect(traceRedis(redis).sendCommand).toBe(sendCommand);
  const off = workerTracing(undefined);
  expect(off.activityInterceptors).toEqual([]);
  expect(Object.keys(off.sinks ?? {})).toEqual(['exporter']);
});

test('workflow spans reach the span processor in the 2.x shape, without memo or search attributes', () => {
  const ended: sdkTracing.ReadableSpan[] = [];
  const resource: resources.Resource = sdkResources.resourceFromAttributes({
    'service.name': 'tdev-worker',
  });
  const tracing: Tracing = {
    spanProcessor: {
      onStart: () => undefined,
      onEnd: (span) => ended.push(span),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    },
    resource,
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const sink = workerTracing(tracing).sinks?.exporter as unknown as {
    export: { fn: (info: Record<string, unknown>, spans: unknown[]) => void };
  };
  const spanContext = {
    traceId: '3c9f24bc03573bf6ea60bfab01a24fd1',
    spanId: '1111111111111111',
    traceFlags: TraceFlags.SAMPLED,
  };
  // As the sandbox's SpanExporter serialises a span (OpenTelemetry SDK 1.x field names).
  const serialized = {
    name: 'RunWorkflow:sessionWorkflow',
    kind: 0,
    spanContext,
    parentSpanId: '2222222222222222',
    startTime: [1, 0],
    endTime: [2, 0],
    status: { code: 0 },
    attributes: { temporalWorkflowId: 'ses_1' },
    links: [],
    events: [],
    duration: [1, 0],
    ended: true,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
  };
  sink.export.fn(
    { workflowId: 'ses_1', attempt: 1, memo: { title: 'secret' }, searchAttributes: { a: [1] } },
    [serialized],
  );
  expect(ended).toHaveLength(1);
  const span = ended[0]!;
  expect(span.name).toBe('RunWorkflow:sessionWorkflow');
  expect(span.spanContext()).toMatchObject(spanContext);
  expect(span.parentSpanContext).toEqual({
    traceId: spanContext.traceId,
    spanId: '2222222222222222',
    traceFlags: TraceFlags.SAMPLED,
  });
  expect(span.instrumentationScope).toEqual({ name: '@temporalio/interceptor-workflow' });
  expect(span.resource).toBe(resource);
  expect(span.attributes).toEqual({ temporalWorkflowId: 'ses_1', workflowId: 'ses_1', attempt: 1 });
});
