// Lint: the few rules that catch real mistakes here, type-aware where that is what makes them right.
// Formatting is prettier's job (npm run format:check), not a lint rule.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Files that still declare members with TypeScript's `private` rather than `#`; convert one, drop it
 * from this list. New code uses `#`.
 */
const legacyPrivateKeyword = [
  'src/auth/client-certificate.ts',
  'src/auth/static-token.ts',
  'src/auth/token-file-authenticator.ts',
  'src/gateway/body-limit.ts',
  'src/gateway/connections.ts',
  'src/gateway/context.ts',
  'src/gateway/forward-handler.ts',
  'src/gateway/http2-exchange.ts',
  'src/gateway/shard-pools.ts',
  'src/gateway/upgrade-pipe.ts',
  'src/routing/embedded-store.ts',
  'src/sim/protobuf.ts',
  'src/sim/shard-state.ts',
  'src/sim/store.ts',
  'src/sim/watch-hub.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'loadtest/results/', '.kcp-edge/'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-restricted-syntax': [
        'error',
        { selector: ':matches(PropertyDefinition, MethodDefinition, TSParameterProperty)[accessibility="private"]', message: 'Use a #private member, the house style.' },
      ],
    },
  },
  {
    // The request path: every value has a type.
    files: ['src/gateway/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: legacyPrivateKeyword,
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Tests may leave a promise to the test runner (node:test awaits what a test returns).
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { ignoreVoid: true, allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
    },
  },
);
