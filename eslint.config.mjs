// ESLint flat config. Two kinds of rules live here:
// - Import direction between the rooms (docs/architecture.md): core ← runtime/models/media ←
//   activities ← workers; workflows import only core/ and activity *types*; api and cli import
//   activities and workflows as types only. A lower room importing a higher one fails lint.
// - Determinism: workflow code (workflows/**) and the workflow-safe shared code it imports
//   (core/**) use no Node built-ins and no `process`; zod stays out of the workflow bundle.
// All of it is `@typescript-eslint/no-restricted-imports`, and flat config lets the last
// matching block's options replace earlier ones for the same rule, so each (room, depth) block
// below carries the room's whole list. Imports here are relative; a pattern names the room an
// import reaches by counting the `../` that leave the importing file's room.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

const deterministic = nodeBuiltins.map((name) => ({
  name,
  message: 'Workflow code must be deterministic: Node built-ins are not allowed here.',
}));

/** The rooms whose imports are checked, and their patterns for a file `depth` folders deep. */
const ROOMS = {
  core: {
    paths: deterministic,
    patterns: (depth) => [leaving(depth, 'core', 'core/ imports nothing outside core/.')],
  },
  runtime: { patterns: (depth) => library(depth) },
  models: { patterns: (depth) => library(depth) },
  media: { patterns: (depth) => library(depth) },
  activities: {
    patterns: (depth) => [
      reaching(depth, ['workflows', 'workers', 'api', 'cli', 'infra', 'bench', 'test'], {
        message:
          'activities/ holds activity factories: they import core/, runtime/, models/ and media/ only.',
      }),
    ],
  },
  workflows: {
    paths: [...deterministic, { name: 'zod', message: 'Keep zod out of the workflow bundle.' }],
    patterns: (depth) => [
      reaching(depth, ['activities'], {
        allowTypeImports: true,
        message: 'Workflows may import activity *types* only (import type).',
      }),
      reaching(
        depth,
        ['runtime', 'models', 'media', 'workers', 'api', 'cli', 'infra', 'bench', 'test'],
        { message: 'Workflow code may import only @temporalio/workflow and core/.' },
      ),
      {
        regex: 'core/plan(/index|/plan-schema)?$',
        allowTypeImports: true,
        message:
          'Import core/plan modules directly (plan-types, condition-expression): the index pulls zod into the workflow bundle.',
      },
    ],
  },
  workers: {
    patterns: (depth) => [
      reaching(depth, ['workflows'], {
        allowTypeImports: true,
        message: 'Workers load workflows by path (bundle); import workflow *types* only.',
      }),
      reaching(depth, ['api', 'cli', 'bench', 'test'], {
        message:
          'workers/ wires activities into workers: it does not import api/, cli/, bench/ or test/.',
      }),
    ],
  },
  api: {
    patterns: (depth) => [
      reaching(depth, ['activities', 'workflows'], {
        allowTypeImports: true,
        message:
          'api/ talks to workflows through the Temporal client: import activity and workflow *types* only (shared values live in core/).',
      }),
      reaching(depth, ['workers', 'cli', 'bench', 'test'], {
        message: 'api/ does not import workers/, cli/, bench/ or test/.',
      }),
    ],
  },
  cli: {
    patterns: (depth) => [
      reaching(depth, ['activities', 'workflows', 'api'], {
        allowTypeImports: true,
        message:
          'cli/ works through the HTTP API: import activity, workflow and API *types* only (shared values live in core/).',
      }),
      reaching(depth, ['workers', 'bench', 'test'], {
        message: 'cli/ does not import workers/, bench/ or test/.',
      }),
    ],
  },
};

/** Blocks cover files up to this many folders deep (test/unit/import-boundaries.test.ts lints the deepest). */
const MAX_ROOM_DEPTH = 8;

/** runtime/, models/ and media/: Node libraries under activities/ and above core/. */
function library(depth) {
  return [
    reaching(
      depth,
      ['activities', 'workflows', 'workers', 'api', 'cli', 'infra', 'bench', 'test'],
      {
        message:
          'runtime/, models/ and media/ are libraries: they import core/ and each other, never activities/, workflows/, workers/, api/, cli/, infra/, bench/ or test/.',
      },
    ),
  ];
}

const ups = (depth) => `^(\\.\\./){${depth}}`;

/** A relative import from a file `depth` folders deep that lands in one of `rooms`. */
function reaching(depth, rooms, options) {
  return { regex: `${ups(depth)}(${rooms.join('|')})(/|$)`, ...options };
}

/** A relative import from a file `depth` folders deep that leaves `room`. */
function leaving(depth, room, message) {
  return { regex: `${ups(depth)}(?!${room}(/|$))`, message };
}

const importBoundaries = Object.entries(ROOMS).flatMap(([room, rules]) =>
  Array.from({ length: MAX_ROOM_DEPTH }, (_, index) => {
    const depth = index + 1;
    return {
      files: [`${room}/${'*/'.repeat(depth - 1)}*.ts`],
      rules: {
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            ...(rules.paths ? { paths: rules.paths } : {}),
            patterns: rules.patterns(depth),
          },
        ],
      },
    };
  }),
);

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', 'bin/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/require-await': 'off',
      'no-console': 'off',
    },
  },
  ...importBoundaries,
  {
    files: ['workflows/**/*.ts', 'core/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process access in workflow code.' },
        { name: 'setImmediate', message: 'Use Temporal timers (sleep) in workflow code.' },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['jest.config.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
