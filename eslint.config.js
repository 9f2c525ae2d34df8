// Lint: typescript-eslint's recommended rules everywhere, plus the workflow sandbox rule —
// workflows/** may import only @temporalio/workflow|common, each other, and `import type` of
// activities; never Node built-ins or application code (src/**), which would break determinism.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'coverage/', 'tests/client/generated/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins (use an activity).' })),
          patterns: [
            {
              group: ['**/src/**', '../src/*', '../../src/*'],
              message: 'Workflows must not import application code; share pure modules through workflows/ or an activity.',
            },
            {
              group: ['**/activities/**', '../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows may only `import type` activities (call them through proxyActivities).',
            },
          ],
        },
      ],
    },
  },
);
