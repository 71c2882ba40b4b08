/**
 * The Prometheus rules (infra/prometheus/rules) as promtool checks and unit-tests them
 * (infra/prometheus/tests), the metric names they use against the ones the code exports, and
 * the dashboard JSON.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Registry } from 'prom-client';
import { createCollectionMetrics, createRoutingMetrics } from '../../runtime/metrics';
import { REPO_ROOT, TOOL_BUILD_TIMEOUT_MS, ensureTool, run } from './ops-tools';

const DIR = path.join(REPO_ROOT, 'infra/prometheus');
const RULES = readdirSync(path.join(DIR, 'rules')).map((f) => path.join(DIR, 'rules', f));
const TESTS = readdirSync(path.join(DIR, 'tests')).map((f) => path.join(DIR, 'tests', f));

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

describe('Prometheus rules and dashboard', () => {
  let promtool: string;
  beforeAll(() => {
    promtool = ensureTool('promtool');
  }, TOOL_BUILD_TIMEOUT_MS);

  it('passes promtool check rules', () => {
    const result = run(promtool, ['check', 'rules', ...RULES]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it('passes the rule unit tests (promtool test rules)', () => {
    const result = run(promtool, ['test', 'rules', ...TESTS]);
    expect(`${result.stdout}${result.stderr}`).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it('uses only tdev_* metrics the processes register, or the Temporal SDK temporal_* ones', () => {
    const registry = new Registry();
    createRoutingMetrics(registry);
    createCollectionMetrics(registry);
    const exported = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
    const used = new Set<string>();
    for (const file of RULES) {
      for (const group of (parse(readFileSync(file, 'utf8')) as RuleFile).groups) {
        for (const rule of group.rules) {
          for (const match of rule.expr.matchAll(/\b(tdev_[a-z_]+|temporal_[a-z_]+)\b/g)) {
            used.add(match[1]!);
          }
        }
      }
    }
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      if (name.startsWith('tdev_')) expect(exported).toContain(name);
      else expect(name).toMatch(/^temporal_(activity|workflow)_[a-z_]+$/);
    }
  });

  it('has a dashboard whose panels query recorded or exported series', () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(DIR, 'dashboards/t-developer.json'), 'utf8'),
    ) as { title: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.title).toBe('T-Developer Core');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    const recorded = new Set(
      RULES.flatMap((file) =>
        (parse(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((group) =>
          group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])),
        ),
      ),
    );
    for (const panel of dashboard.panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) {
        const names = [...target.expr.matchAll(/\b(tdev:[a-z0-9_:]+|tdev_[a-z_]+)/g)].map(
          (match) => match[1]!,
        );
        expect(names.length).toBeGreaterThan(0);
        for (const name of names.filter((n) => n.startsWith('tdev:'))) {
          expect(recorded).toContain(name);
        }
      }
    }
  });
});
