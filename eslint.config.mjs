// `npm run lint`: eslint 9 flat config with typescript-eslint, type-aware over tsconfig.json (which includes test/).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Every Node built-in module, subpaths included (fs, fs/promises, path/posix, ...); banned bare and as node:….
const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.summit/**', 'bin/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The rules this project relies on: a promise nobody awaits loses its error (a crashed worker, an
      // unhandled rejection), and an async callback where a void one is expected runs unobserved.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Off: the code parses untyped input (JSON, YAML, zod-less test payloads) through `any` on purpose at its
      // edges and validates right after; these five rules flag every such line and would drown the ones above.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Off: template literals with numbers and unknown errors are how the code writes log and error messages.
      '@typescript-eslint/restrict-template-expressions': 'off',
      // Off: async functions without await implement async interfaces (activities, handlers) on purpose.
      '@typescript-eslint/require-await': 'off',
      // Off: the binary format code (stone headers, records, meta) compares bytes read from disk with numeric
      // enums on purpose; that is the decoding, not a mix-up of two enums.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // Off: activities, CLI streams and test environments are objects of closures that never use `this`; the
      // rule cannot tell and flags every `activities.buildRecipe` handed to a worker.
      '@typescript-eslint/unbound-method': 'off',
      // Rethrowing what a `.catch` caught (typed any) is not rejecting with a non-Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Workflow code is replayed by Temporal's deterministic sandbox: no I/O, no ORM, no HTTP, and no activity
    // modules at all: the activity interfaces and payloads are in core/contracts (called through proxyActivities).
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: nodeBuiltins.flatMap((name) => [
          { name, message: 'Workflows run in a deterministic sandbox: no Node built-ins (do it in an activity).' },
          { name: `node:${name}`, message: 'Workflows run in a deterministic sandbox: no Node built-ins (do it in an activity).' },
        ]).concat(
          ['express', 'pg'].map((name) => ({ name, message: 'Workflows never talk HTTP or SQL: call an activity.' })),
        ),
        patterns: [
          { group: ['@mikro-orm/*', 'express/*', 'pg/*'], message: 'Workflows never touch the database or HTTP: call an activity.' },
          {
            group: ['**/activities', '**/activities/**', '!**/contracts/activities'],
            message: 'Workflows take activity interfaces and payloads from core/contracts and call them through proxyActivities.',
          },
        ],
      }],
    },
  },
);
