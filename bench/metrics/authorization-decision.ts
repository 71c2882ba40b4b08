/**
 * Authorisation decision time, in process (no server), over every role × action on the
 * resources the routes use — the caller's tenant, its own session, another user's session,
 * another tenant's resources, the platform — three ways:
 *
 * - Cedar evaluation: `createAuthorizer({ cacheSize: 0 })`, every decision through the wasm
 *   boundary (what a request shape costs the first time);
 * - the API's decision: `createAuthorizer()` as the API builds it, its decision cache warm
 *   (every request shape decided once before: the steady state of a running API);
 * - the baseline: the same rules as a hand-written if-chain (bench/raw/hand-written-authz.ts).
 *
 * All three must agree on every case (the run stops otherwise). Each decision is timed alone
 * with process.hrtime.bigint(); sides alternate in blocks.
 */
import {
  ACTIONS,
  type Action,
  type PolicyPrincipal,
  type PolicyResource,
} from '../../runtime/policy/actions';
import { createAuthorizer } from '../../runtime/policy/authorizer';
import { ROLES } from '../../runtime/policy/roles';
import type { BenchMetric } from '../core/metric';
import { compare } from '../core/records';
import { percentile, summarize } from '../core/stats';
import { handWrittenAuthorize } from '../raw/hand-written-authz';

export interface AuthorizationBenchOptions {
  warmupDecisions: number;
  decisions: number;
  /** Decisions per side before switching to the other side. */
  blockSize: number;
  /** Bound on the p99 of one Cedar decision, in µs. */
  targetP99Micros: number;
}

export const AUTHORIZATION_DEFAULTS: AuthorizationBenchOptions = {
  warmupDecisions: 20_000,
  decisions: 100_000,
  blockSize: 1_000,
  targetP99Micros: 50,
};

interface Case {
  principal: PolicyPrincipal;
  action: Action;
  resource: PolicyResource;
}

const SESSION_ID = 'ses_01M86WJPP9RGC4HN5MVG19H74Z';

/** The resources a route declaring `action` is checked on (api/policy/action.ts). */
function resourcesOf(action: Action): PolicyResource[] {
  if (action === 'platform-agent:write') return [{ type: 'Platform', id: 'platform', tenant: '*' }];
  const tenants: PolicyResource[] = [
    { type: 'Tenant', id: 'acme', tenant: 'acme' },
    { type: 'Tenant', id: 'globex', tenant: 'globex' },
  ];
  const sessionAction =
    action.startsWith('session:') && action !== 'session:list' && action !== 'session:start';
  if (!sessionAction && action !== 'usage:read') return tenants;
  const sessions: PolicyResource[] = [
    { type: 'Session', id: SESSION_ID, tenant: 'acme', owner: 'ada' },
    { type: 'Session', id: SESSION_ID, tenant: 'acme', owner: 'bob' },
    { type: 'Session', id: SESSION_ID, tenant: 'globex', owner: 'ada' },
  ];
  return action === 'usage:read' ? [...tenants, ...sessions] : sessions;
}

/** Every role (and a legacy name, and none) × action × resource, in a fixed order. */
export function authorizationCases(): Case[] {
  const roleSets = [...ROLES.map((role) => [role]), ['admin'], ['viewer', 'approver'], []];
  return roleSets.flatMap((roles) =>
    ACTIONS.flatMap((action) =>
      resourcesOf(action).map((resource) => ({
        principal: { tenantId: 'acme', userId: 'ada', roles },
        action,
        resource,
      })),
    ),
  );
}

export function authorizationDecision(
  options: AuthorizationBenchOptions = AUTHORIZATION_DEFAULTS,
): BenchMetric {
  return {
    name: 'authz',
    description:
      `In process: authorizer.authorize() (Cedar, @cedar-policy/cedar-wasm, policy set parsed ` +
      `once) over every role × action × route resource (own tenant, own and another user's ` +
      `session, another tenant, the platform): Cedar evaluation (no cache), the API's ` +
      `decision (warm cache) and the same rules as a hand-written if-chain; ` +
      `${options.warmupDecisions} warm-up decisions per side, then ${options.decisions} per ` +
      `side, each timed alone with process.hrtime.bigint(), sides alternating every ` +
      `${options.blockSize}. Target: p99 ≤ ${options.targetP99Micros} µs.`,
    async run(context) {
      const evaluation = createAuthorizer(undefined, { cacheSize: 0 });
      const decision = createAuthorizer();
      const cases = authorizationCases();
      let allowed = 0;
      for (const [index, { principal, action, resource }] of cases.entries()) {
        const cedar = evaluation.authorize(principal, action, resource);
        if (cedar.errors.length) throw new Error(`Cedar errors: ${cedar.errors.join('; ')}`);
        const agree =
          cedar.allowed === handWrittenAuthorize(principal, action, resource) &&
          cedar.allowed === decision.authorize(principal, action, resource).allowed;
        if (!agree) {
          throw new Error(
            `case ${index}: the sides disagree on ${principal.roles.join(',') || 'no role'} ${action} on ${JSON.stringify(resource)}`,
          );
        }
        if (cedar.allowed) allowed += 1;
      }
      const sides = {
        evaluation: (item: Case) =>
          evaluation.authorize(item.principal, item.action, item.resource).allowed,
        decision: (item: Case) =>
          decision.authorize(item.principal, item.action, item.resource).allowed,
        baseline: (item: Case) => handWrittenAuthorize(item.principal, item.action, item.resource),
      };
      type SideName = keyof typeof sides;
      const names = Object.keys(sides) as SideName[];
      let sink = 0;
      for (let index = 0; index < options.warmupDecisions; index += 1) {
        const item = cases[index % cases.length]!;
        for (const name of names) sink += sides[name](item) ? 1 : 0;
      }
      const samples = Object.fromEntries(
        names.map((name) => [name, new Float64Array(options.decisions)]),
      ) as Record<SideName, Float64Array>;
      for (let start = 0; start < options.decisions; start += options.blockSize) {
        const end = Math.min(options.decisions, start + options.blockSize);
        for (const name of names) {
          const side = sides[name];
          const times = samples[name];
          for (let index = start; index < end; index += 1) {
            const item = cases[index % cases.length]!;
            const before = process.hrtime.bigint();
            sink += side(item) ? 1 : 0;
            times[index] = Number(process.hrtime.bigint() - before) / 1_000;
          }
        }
      }
      const list = (name: SideName) => Array.from(samples[name]);
      const p = (name: SideName, rank: number) => percentile(list(name), rank);
      context.log(
        `authz: Cedar evaluation p50 ${p('evaluation', 50).toFixed(2)} µs, p99 ` +
          `${p('evaluation', 99).toFixed(2)} µs; API decision (cached) p50 ` +
          `${p('decision', 50).toFixed(2)} µs, p99 ${p('decision', 99).toFixed(2)} µs; if-chain ` +
          `p50 ${p('baseline', 50).toFixed(2)} µs, p99 ${p('baseline', 99).toFixed(2)} µs ` +
          `(${cases.length} cases, ${allowed} allowed; sink ${sink})`,
      );
      return {
        records: [
          compare({
            name: 'authorisation: Cedar evaluation p50 (uncached) vs if-chain',
            ours: p('evaluation', 50),
            baseline: p('baseline', 50),
            unit: 'µs',
            better: 'lower',
            details: {
              evaluation: summarize(list('evaluation')),
              decision: summarize(list('decision')),
              baseline: summarize(list('baseline')),
              cases: cases.length,
              allowedCases: allowed,
              baselineKind: 'the same rules as an if-chain (bench/raw/hand-written-authz.ts)',
            },
          }),
          compare({
            name: 'authorisation: Cedar evaluation p99 (uncached) vs if-chain',
            ours: p('evaluation', 99),
            baseline: p('baseline', 99),
            unit: 'µs',
            better: 'lower',
          }),
          compare({
            name: 'authorisation: Cedar evaluation p99 vs target (baseline column = target)',
            ours: p('evaluation', 99),
            baseline: options.targetP99Micros,
            unit: 'µs',
            better: 'lower',
            target: 1,
          }),
          compare({
            name: 'authorisation: API decision p99, warm cache, vs target (baseline column = target)',
            ours: p('decision', 99),
            baseline: options.targetP99Micros,
            unit: 'µs',
            better: 'lower',
            target: 1,
          }),
        ],
        parameters: { ...options, cases: cases.length, timing: 'each decision timed alone' },
      };
    },
  };
}
