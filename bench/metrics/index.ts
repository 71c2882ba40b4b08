/**
 * The registry of metrics `npm run bench` runs, in this order. A new metric is a file in this
 * folder exporting a `BenchMetric` factory, added here.
 */
import type { BenchMetric } from '../core/metric';
import { httpLatency } from './http-latency';
import { perStepOverhead } from './per-step-overhead';
import { sessionThroughput } from './session-throughput';

export const METRICS: readonly BenchMetric[] = [
  perStepOverhead(),
  sessionThroughput(),
  httpLatency(),
];
