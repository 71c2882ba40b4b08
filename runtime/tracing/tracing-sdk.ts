/**
 * The OpenTelemetry SDK for one process (API or worker), on only when tracing is configured:
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (an OTLP/HTTP endpoint, e.g. Jaeger's http://127.0.0.1:4318) or
 * `TRACING_ENABLED=true` (the SDK's default endpoint, http://localhost:4318). Off, nothing is
 * registered: `@opentelemetry/api` hands out its no-op tracer and no span is created.
 */
import { node, resources, tracing } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';

export interface Tracing {
  /** The span processor every span of the process goes through (workflow spans included). */
  spanProcessor: tracing.SpanProcessor;
  /** The resource (service.name) spans are exported with. */
  resource: resources.Resource;
  /** Sends the spans still buffered. */
  flush(): Promise<void>;
  /** Flushes and stops the SDK. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` in the trace backend (`OTEL_SERVICE_NAME` wins when set). */
  serviceName: string;
  env?: Record<string, string | undefined>;
}

let active = false;

/** Whether tracing is configured in `env` (see the module comment). */
export function tracingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  const flag = env.TRACING_ENABLED?.trim().toLowerCase();
  if (flag === 'false' || flag === '0') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) || flag === 'true' || flag === '1';
}

/** Whether `startTracing` registered the SDK in this process. */
export function tracingActive(): boolean {
  return active;
}

/**
 * Starts the SDK (W3C trace-context propagation, AsyncLocalStorage context, OTLP/HTTP protobuf
 * export in batches) when `tracingEnabled(env)`; undefined otherwise. Call it once, before
 * clients are built.
 */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const env = options.env ?? process.env;
  if (!tracingEnabled(env)) return undefined;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || options.serviceName;
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': serviceName }));
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const exporter = new OTLPTraceExporter(
    endpoint ? { url: `${endpoint.replace(/\/+$/, '')}/v1/traces` } : {},
  );
  const spanProcessor = new tracing.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 });
  // Traces only (NodeSDK would also start OTLP metric and log exporters); register() installs
  // the AsyncLocalStorage context manager and the W3C trace-context propagator.
  const provider = new node.NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  active = true;
  return {
    spanProcessor,
    resource,
    flush: () => spanProcessor.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      active = false;
    },
  };
}
