/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): self time by function (top N) and by where
 * the code lives (workflow bundle, Temporal worker, payload codec, activities, ...).
 *   node --import tsx bench/tools/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const AREAS: [string, RegExp][] = [
  ['workflow bundle (sandbox)', /workflows\.js|workflow-bundle|session-workflows|raw-workflows/],
  ['@temporalio/worker', /@temporalio\/worker/],
  ['@temporalio/common|proto', /@temporalio\/(common|proto)|protobufjs|long\//],
  ['@temporalio/activity|client', /@temporalio\/(activity|client)/],
  ['our code (activities, models, runtime, core)', /\/(activities|models|runtime|core|bench)\//],
  ['aws-sdk', /@aws-sdk|@smithy/],
  ['other node_modules', /node_modules/],
  ['node internals', /^node:|^internal\//],
];

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  return AREAS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other';
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfMs = new Map<number, number>();
    profile.samples.forEach((id, index) => {
      selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
    });
    const byFunction = new Map<string, number>();
    const byArea = new Map<string, number>();
    let total = 0;
    for (const [id, ms] of selfMs) {
      const frame = byId.get(id)?.callFrame;
      if (!frame) continue;
      if (frame.functionName === '(idle)') continue;
      total += ms;
      const shortUrl = frame.url
        .replace(/^.*node_modules\//, '')
        .replace(/^file:\/\/.*?\/(?=[a-z-]+\/)/, '');
      const key = `${frame.functionName || '(anonymous)'} ${shortUrl}:${frame.lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
      const area = areaOf(frame.url, frame.functionName);
      byArea.set(area, (byArea.get(area) ?? 0) + ms);
    }
    console.log(`${file}: ${total.toFixed(0)} ms busy (idle left out)`);
    const pct = (ms: number): string => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
    for (const [area, ms] of [...byArea].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${area}`);
    }
    console.log('  top self time:');
    for (const [key, ms] of [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(values.top))) {
      console.log(`  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${key}`);
    }
  }
}

main();
