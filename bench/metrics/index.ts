/**
 * The registry of metrics `npm run bench` runs, in this order. A new metric is a file in this
 * folder exporting a `BenchMetric` factory, added here.
 */
import type { BenchMetric } from '../core/metric';
import { agentSpecInstantiation } from './agent-spec';
import { apiLoad } from './api-load';
import { authorizationDecision } from './authorization-decision';
import { chunkingThroughput } from './chunking';
import { contextAssembly } from './context-assembly';
import { encryptionCost } from './encryption';
import { failoverLatency } from './failover-latency';
import { fairShare } from './fair-share';
import { idleFollowers } from './followers';
import { httpAccess } from './http-access';
import { httpLatency } from './http-latency';
import { imagePipeline } from './image-pipeline';
import { memoryRecall } from './memory-recall';
import { openSessions } from './open-sessions';
import { perStepOverhead } from './per-step-overhead';
import { plan100 } from './plan-100';
import { providerOverhead } from './provider-overhead';
import { routingDecision } from './routing-decision';
import { sessionThroughput } from './session-throughput';

export const METRICS: readonly BenchMetric[] = [
  perStepOverhead(),
  sessionThroughput(),
  httpLatency(),
  httpAccess(),
  plan100(),
  encryptionCost(),
  idleFollowers(),
  apiLoad(),
  // Its own two dev servers (fairness on and off), started and stopped inside the metric.
  fairShare(),
  // Last of the server metrics: it leaves its open workflows on the server.
  openSessions(),
  // In process (no server): they only share the run and the results file.
  routingDecision(),
  authorizationDecision(),
  agentSpecInstantiation(),
  providerOverhead(),
  failoverLatency(),
  imagePipeline(),
  chunkingThroughput(),
  memoryRecall(),
  contextAssembly(),
];
