/**
 * The dev server (tests, bench, `npm start`) and the standalone/compose server run with the
 * same platform dynamic config: every key of PLATFORM_DYNAMIC_CONFIG stands in
 * infra/temporal/postgres/dynamicconfig.yaml with the same value, unconstrained.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PLATFORM_DYNAMIC_CONFIG } from '../../infra/stack/temporal-dev-server';

const yaml = readFileSync(
  path.join(__dirname, '..', '..', 'infra', 'temporal', 'postgres', 'dynamicconfig.yaml'),
  'utf8',
);

/** `key`'s first value in the YAML file, as JSON text (the file's simple list form). */
function yamlValue(key: string): string | undefined {
  const escaped = key.replace(/[.]/g, '\\.');
  return new RegExp(`^${escaped}:\\n  - value: (.+)\\n    constraints: \\{\\}$`, 'm').exec(
    yaml,
  )?.[1];
}

test.each(Object.entries(PLATFORM_DYNAMIC_CONFIG))(
  '%s is set the same way for the standalone server',
  (key, value) => {
    expect(yamlValue(key)).toBe(JSON.stringify(value));
  },
);

test('the platform config holds fairness within one write partition', () => {
  expect(PLATFORM_DYNAMIC_CONFIG).toMatchObject({
    'matching.enableFairness': true,
    'matching.numTaskqueueWritePartitions': 1,
  });
});
