/**
 * The import direction between the rooms is enforced by lint (eslint.config.mjs): this runs
 * ESLint's Node API with the project's own config on deliberate violations placed in each
 * room, and on imports the rooms may make. Type-aware rules are switched off here (the probe
 * files do not exist on disk); the boundary rule needs no type information.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const RULE = '@typescript-eslint/no-restricted-imports';

interface Probe {
  file: string;
  code: string;
}

/**
 * Lints every probe in one child Node process: ESLint loads its flat config with a dynamic
 * `import()`, which Jest's module sandbox does not allow.
 */
const LINT_SCRIPT = `
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import path from 'node:path';
const probes = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text));
}));
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: tseslint.configs.disableTypeChecked });
const results = [];
for (const probe of probes) {
  const [result] = await eslint.lintText(probe.code, { filePath: path.join(process.cwd(), probe.file) });
  results.push(result.messages.map(({ ruleId, message, fatal }) => ({ ruleId, message, fatal: !!fatal })));
}
process.stdout.write(JSON.stringify(results));
`;

type Message = { ruleId: string | null; message: string; fatal: boolean };

function lintProbes(probes: Probe[]): Promise<Message[][]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', LINT_SCRIPT],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Message[][]);
      },
    );
    child.stdin?.end(JSON.stringify(probes));
  });
}

const results = new Map<string, Message[]>();
const key = (probe: Probe) => `${probe.file}\n${probe.code}`;

/** The boundary messages ESLint reported for the probe; fails on a parse error. */
function boundaryMessages(probe: Probe): string[] {
  const messages = results.get(key(probe));
  if (!messages) throw new Error(`${probe.file} was not linted`);
  const fatal = messages.filter((message) => message.fatal);
  if (fatal.length) throw new Error(`${probe.file}: ${fatal.map((m) => m.message).join('; ')}`);
  return messages.filter((message) => message.ruleId === RULE).map((m) => m.message);
}

const violations: (Probe & { message: RegExp })[] = [
  {
    file: 'core/session/boundary-probe.ts',
    code: "export { createActivities } from '../../activities';\n",
    message: /core\/ imports nothing outside core\//,
  },
  {
    file: 'core/boundary-probe.ts',
    code: "import type { BlobRef } from '../media/blob';\nexport type Probe = BlobRef;\n",
    message: /core\/ imports nothing outside core\//,
  },
  {
    file: 'core/plan/boundary-probe.ts',
    code: "import { randomUUID } from 'node:crypto';\nexport const probe = randomUUID;\n",
    message: /Node built-ins are not allowed/,
  },
  {
    file: 'media/attachments/boundary-probe.ts',
    code: "import '../../workers/main';\n",
    message: /runtime\/, models\/ and media\/ are libraries/,
  },
  {
    file: 'models/boundary-probe.ts',
    code: "export { createImageActivities } from '../activities/images';\n",
    message: /runtime\/, models\/ and media\/ are libraries/,
  },
  {
    file: 'runtime/stores/boundary-probe.ts',
    code: "export { createApp } from '../../api/app';\n",
    message: /runtime\/, models\/ and media\/ are libraries/,
  },
  {
    file: 'activities/images/boundary-probe.ts',
    code: "export { createMediaWorker } from '../../workers/media-worker';\n",
    message: /activities\/ holds activity factories/,
  },
  {
    file: 'api/routes/boundary-probe.ts',
    code: "export { sessionWorkflow } from '../../workflows';\n",
    message: /api\/ talks to workflows through the Temporal client/,
  },
  {
    file: 'api/boundary-probe.ts',
    code: "import { createActivities } from '../activities';\nexport const probe = createActivities;\n",
    message: /api\/ talks to workflows through the Temporal client/,
  },
  {
    file: 'cli/boundary-probe.ts',
    code: "export { sessionWorkflow } from '../workflows';\n",
    message: /cli\/ works through the HTTP API/,
  },
  {
    file: 'workflows/session/boundary-probe.ts',
    code: "export { createActivities } from '../../activities';\n",
    message: /Workflows may import activity \*types\* only/,
  },
  {
    file: 'workflows/session/boundary-probe.ts',
    code: "export { LocalBlobStore } from '../../media/blob';\n",
    message: /Workflow code may import only @temporalio\/workflow and core\//,
  },
  {
    file: 'workflows/boundary-probe.ts',
    code: "export { z } from 'zod';\n",
    message: /Keep zod out of the workflow bundle/,
  },
  {
    file: 'workflows/session/boundary-probe.ts',
    code: "export { validatePlan } from '../../core/plan';\n",
    message: /the index pulls zod into the workflow bundle/,
  },
  {
    file: 'workers/boundary-probe.ts',
    code: "export { createApp } from '../api/app';\n",
    message: /workers\/ wires activities into workers/,
  },
];

const allowed: Probe[] = [
  // core/media is inside core, although the specifier reads like media/.
  { file: 'core/session/boundary-probe.ts', code: "export * from '../media/attachments';\n" },
  { file: 'runtime/boundary-probe.ts', code: "export { ERROR_TYPES } from '../core/errors';\n" },
  { file: 'media/image/boundary-probe.ts', code: "export * from '../../models/model-provider';\n" },
  { file: 'models/boundary-probe.ts', code: "export { LocalBlobStore } from '../media/blob';\n" },
  {
    file: 'activities/images/boundary-probe.ts',
    code: "export { LocalBlobStore } from '../../media/blob';\nexport * from '../../runtime/logger';\n",
  },
  {
    file: 'workers/boundary-probe.ts',
    code: "export { createActivities } from '../activities';\n",
  },
  {
    file: 'workflows/session/boundary-probe.ts',
    code: "import type { SessionActivities } from '../../activities';\nexport type Probe = SessionActivities;\n",
  },
  {
    file: 'api/routes/boundary-probe.ts',
    code: "import { type SessionActivities } from '../../activities';\nexport type Probe = SessionActivities;\n",
  },
  { file: 'api/boundary-probe.ts', code: "export { LocalBlobStore } from '../media/blob';\n" },
  {
    file: 'cli/boundary-probe.ts',
    code: "export { isSessionId } from '../runtime/session-ids';\n",
  },
];

/** How many folders deep the deepest .ts file under `room` is (1 for `room/file.ts`). */
function deepest(folder: string, depth = 1): number {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true }).reduce(
    (max, entry) =>
      entry.isDirectory()
        ? Math.max(max, deepest(path.join(folder, entry.name), depth + 1))
        : entry.name.endsWith('.ts')
          ? Math.max(max, depth)
          : max,
    0,
  );
}

const ROOMS = [
  'core',
  'runtime',
  'models',
  'media',
  'activities',
  'workflows',
  'workers',
  'api',
  'cli',
];

/** A violation placed in the room's deepest folder: the config has one block per (room, depth). */
function deepestProbe(room: string): Probe {
  const depth = deepest(room);
  const folders = Array.from({ length: depth - 1 }, () => 'x');
  const target = room === 'workers' ? 'cli/main' : 'workers/main';
  return {
    file: path.join(room, ...folders, 'probe.ts'),
    code: `import '${'../'.repeat(depth)}${target}';\n`,
  };
}

beforeAll(async () => {
  const probes = [...violations, ...allowed, ...ROOMS.map(deepestProbe)];
  const linted = await lintProbes(probes);
  probes.forEach((probe, index) => results.set(key(probe), linted[index] ?? []));
}, 120_000);

/** `file: first line of code`, for the test names. */
const title = (probe: Probe) => `${probe.file}: ${probe.code.split('\n')[0]}`;

test.each(violations.map((violation) => [title(violation), violation] as const))(
  '%s is reported',
  (_title, { message, ...probe }) => {
    expect(boundaryMessages(probe)).toEqual([expect.stringMatching(message)]);
  },
);

test.each(allowed.map((probe) => [title(probe), probe] as const))(
  '%s is allowed',
  (_title, probe) => {
    expect(boundaryMessages(probe)).toEqual([]);
  },
);

test.each(ROOMS)('the rule reaches the deepest file in %s/', (room) => {
  expect(deepest(room)).toBeGreaterThan(0);
  expect(boundaryMessages(deepestProbe(room))).toHaveLength(1);
});
