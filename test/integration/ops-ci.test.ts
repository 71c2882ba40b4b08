/**
 * The CI pipeline (.github/workflows/ci.yml) as actionlint checks it (workflow syntax, job
 * graph, expressions, action inputs, and the `run:` scripts through shellcheck when present),
 * plus the jobs a team relies on: every step a developer runs locally has a CI counterpart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, TOOL_BUILD_TIMEOUT_MS, ensureTool, run } from './ops-tools';

const WORKFLOW = path.join(REPO_ROOT, '.github/workflows/ci.yml');

interface Workflow {
  jobs: Record<string, { steps: { run?: string; uses?: string }[]; needs?: string[] }>;
}

describe('CI workflow', () => {
  let actionlint: string;
  beforeAll(() => {
    actionlint = ensureTool('actionlint');
  }, TOOL_BUILD_TIMEOUT_MS);

  it('passes actionlint', () => {
    const result = run(actionlint, ['-no-color', WORKFLOW]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('actionlint rejects a broken workflow (the check can fail)', () => {
    const broken = readFileSync(WORKFLOW, 'utf8').replace('needs: [static, unit]', 'needs: [nope]');
    const result = run(actionlint, ['-no-color', '-'], { input: broken });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/nope/);
  });

  it('runs lint, type-check, tests, bench smoke, helm, cdk synth, rules and the image build', () => {
    const workflow = parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;
    const commands = Object.values(workflow.jobs)
      .flatMap((job) => job.steps.map((step) => step.run ?? step.uses ?? ''))
      .join('\n');
    for (const expected of [
      'npm run lint',
      'npm run typecheck',
      'npm run format:check',
      'npx jest --selectProjects unit',
      'npx jest --selectProjects integration',
      'infra/scripts/setup.sh --system-packages',
      'npm run bench',
      'helm lint --strict infra/helm/t-developer',
      'npx tsx infra/cdk/app.ts',
      'promtool check rules',
      'promtool test rules',
      'actionlint',
      'docker/build-push-action',
    ]) {
      expect(commands).toContain(expected);
    }
    expect(workflow.jobs.image!.needs).toEqual(['static', 'unit']);
  });
});
