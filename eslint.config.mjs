// ESLint flat config. Workflow code (workflows/**) and the workflow-safe shared code it
// imports (core/**) must stay deterministic: no Node built-ins, no activity values, no
// API or runtime modules. The rules below enforce that rather than relying on memory.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

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
  {
    files: ['workflows/**/*.ts', 'core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: Node built-ins are not allowed here.',
          })),
          patterns: [
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows may import activity *types* only (import type).',
            },
            {
              group: ['**/api/**', '**/runtime/**', '**/workers/**', '**/cli/**', '**/infra/**'],
              message: 'Workflow code may import only @temporalio/workflow and core/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process access in workflow code.' },
        { name: 'setImmediate', message: 'Use Temporal timers (sleep) in workflow code.' },
      ],
    },
  },
  {
    // The workflow bundle is loaded into every workflow context: keep zod (schemas for the
    // API and activities) out of it, including through the core/plan index that re-exports them.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must be deterministic: Node built-ins are not allowed here.',
            })),
            { name: 'zod', message: 'Keep zod out of the workflow bundle.' },
          ],
          patterns: [
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows may import activity *types* only (import type).',
            },
            {
              group: ['**/api/**', '**/runtime/**', '**/workers/**', '**/cli/**', '**/infra/**'],
              message: 'Workflow code may import only @temporalio/workflow and core/.',
            },
            {
              regex: 'core/plan(/index|/plan-schema)?$',
              allowTypeImports: true,
              message:
                'Import core/plan modules directly (plan-types, condition-expression): the index pulls zod into the workflow bundle.',
            },
          ],
        },
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
