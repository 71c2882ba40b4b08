/**
 * Temporal's OpenTelemetry interceptors wired to this process's SDK: the client span of
 * StartWorkflow/SignalWorkflow, the workflow spans (made inside the sandbox and handed out
 * through the `exporter` sink) and the activity spans, all joined by the trace context Temporal
 * carries in headers.
 */
import type { tracing as sdkTracing } from '@opentelemetry/sdk-node';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { Tracing } from './tracing-sdk';

type ReadableSpan = sdkTracing.ReadableSpan;

/**
 * The workflow interceptor module bundled with the workflow code for workers with tracing on
 * (workers/bundle-workflows.ts): it traces workflow execution, signals, queries and the
 * activities it schedules.
 */
export const TRACING_WORKFLOW_INTERCEPTORS =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Client interceptors that open a span per workflow start/signal/query and pass it on. */
export function workflowClientTracing(): WorkflowClientInterceptor[] {
  return [new OpenTelemetryWorkflowClientInterceptor()];
}

/**
 * Worker options for tracing: activity interceptors and the workflow span sink. `tracing`
 * undefined (tracing off) still registers the sink, as a no-op, since a bundle built before the
 * interceptors were left out of the untraced one still calls it.
 */
export function workerTracing(tracing: Tracing | undefined): Pick<WorkerOptions, 'sinks'> & {
  activityInterceptors: NonNullable<WorkerOptions['interceptors']>['activity'];
} {
  if (!tracing) {
    return { sinks: { exporter: { export: { fn: () => undefined } } }, activityInterceptors: [] };
  }
  const processor = sandboxSpanProcessor(tracing);
  return {
    // The interceptor package is typed against OpenTelemetry SDK 1.x; the adapter makes its spans
    // what the 2.x processor and OTLP exporter read.
    sinks: {
      exporter: makeWorkflowExporter(processor as never, tracing.resource),
    },
    activityInterceptors: [
      (activityContext) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(activityContext),
        outbound: new OpenTelemetryActivityOutboundInterceptor(activityContext),
      }),
    ],
  };
}

/** A 1.x-shaped span as the workflow sink rebuilds it from the sandbox. */
interface SandboxSpan extends Omit<ReadableSpan, 'instrumentationScope' | 'parentSpanContext'> {
  instrumentationLibrary?: ReadableSpan['instrumentationScope'];
  parentSpanId?: string;
}

/**
 * Forwards workflow spans to the process's span processor in the 2.x shape: the instrumentation
 * scope and the parent span context under their 2.x names, the process's resource, and of the
 * workflow info the sink adds to every span only its plain values (memo, search attributes and
 * earlier results stay out of traces).
 */
function sandboxSpanProcessor(
  tracing: Tracing,
): { onEnd(span: SandboxSpan): void } & Record<string, unknown> {
  return {
    onStart: () => undefined,
    forceFlush: () => tracing.spanProcessor.forceFlush(),
    shutdown: () => Promise.resolve(),
    onEnd(span: SandboxSpan) {
      const spanContext = span.spanContext();
      const attributes = Object.fromEntries(
        Object.entries(span.attributes).filter(([, value]) =>
          ['string', 'number', 'boolean'].includes(typeof value),
        ),
      );
      const converted: ReadableSpan = {
        ...span,
        spanContext: () => spanContext,
        attributes,
        resource: tracing.resource,
        instrumentationScope: span.instrumentationLibrary ?? {
          name: '@temporalio/interceptor-workflow',
        },
        ...(span.parentSpanId
          ? {
              parentSpanContext: {
                traceId: spanContext.traceId,
                spanId: span.parentSpanId,
                traceFlags: spanContext.traceFlags,
              },
            }
          : {}),
      };
      tracing.spanProcessor.onEnd(converted);
    },
  };
}
