// ESLint: TypeScript's recommended rules, Prettier for layout (eslint-config-prettier
// turns off every rule Prettier decides), and the layering of docs/architecture.md as
// import boundaries, so an upward import fails `npm run lint` instead of waiting for a
// reviewer to notice. test/lint/layering.test.ts plants violations to prove each rule bites.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Domain folders: pure logic and small SDK adapters, used by everything above them. */
const DOMAIN = ['ingest', 'optout', 'query', 'airlock', 'audit', 'register', 'billing', 'governance', 'reports'];
/** What builds or runs the app: never imported by the domain, the config or the handlers. */
const ABOVE_DOMAIN = [
  './lib/constructs',
  './lib/stacks',
  './lib/cli',
  './lib/local',
  './lib/compliance',
  './lib/app.ts',
  './lambdas',
  './bin',
  './bench',
  './test',
];

export const LAYERS = [
  {
    target: './lib/config',
    from: './lib',
    except: ['./config'],
    message: 'lib/config is the ground floor: it imports no other lib/ folder (move the shared piece into lib/config)',
  },
  ...DOMAIN.map((name) => ({
    target: `./lib/${name}`,
    from: ABOVE_DOMAIN,
    message:
      'domain code never imports constructs, stacks, cli, local, compliance, handlers, benchmarks or tests: move the shared piece down into the domain or lib/config',
  })),
  {
    target: './lib/constructs',
    from: ['./lib/stacks', './lib/cli', './lib/local', './lib/app.ts', './lambdas', './bin', './bench', './test'],
    message: 'constructs never import stacks, cli, the local runtime or handlers',
  },
  {
    target: './lib/stacks',
    from: ['./lib/cli', './lib/local', './lib/app.ts', './lambdas', './bin', './bench', './test'],
    message: 'stacks wire constructs: they never import the cli, the local runtime or handler code (name a handler by its path)',
  },
  {
    target: './lib/compliance',
    from: ['./lib/stacks', './lib/cli', './lib/local', './lib/app.ts', './lambdas', './bin', './bench', './test'],
    message: 'the compliance gates apply to any app: they import no stack, cli or runtime code',
  },
  {
    target: './lib/local',
    from: ['./lib/cli', './lib/stacks', './lib/constructs', './lib/app.ts', './lambdas', './bin', './bench', './test'],
    message: 'the local runtime runs the domain code: it never imports the cli, stacks, constructs or handlers',
  },
  {
    target: './lambdas',
    from: ['./lib/cli', './lib/local', './lib/stacks', './lib/constructs', './lib/compliance', './lib/app.ts', './bin', './bench', './test'],
    message: 'a handler is a thin adapter over lib/ domain code: it never imports the cli, the local runtime, stacks or constructs',
  },
  {
    target: './lib/cli',
    from: ['./lambdas', './bin', './bench', './test'],
    message: 'the cli calls lib/ code, never handlers, benchmarks or tests',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'cdk.*.out/', '.sde/', 'coverage/', 'test/output/', 'test/fixtures/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver': { node: { extensions: ['.ts', '.js', '.mjs', '.json'] } },
      // no-cycle parses each imported file: with TypeScript's parser, or it sees no imports.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js', '.mjs'],
    },
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: LAYERS }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Code lines stay readable; long messages and SQL in strings are left whole (grep finds them).
      'max-len': [
        'error',
        { code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true, ignoreComments: false },
      ],
      // `??` not `||` for defaults needs type information; kept to the review. Unused names are errors, except `_`-prefixed.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The CLI loads a command's heavy modules (DuckDB, the S3 API, the CDK) only when that
    // command runs, so `sde --help` and `sde validate` start fast: a lazy require.
    files: ['lib/cli/**/*.ts', 'bin/sde.js', 'bin/prerequisites.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // s3rver's internals (its error type, authentication, models) are CommonJS modules
    // without types: required by path, typed at the call.
    files: ['lib/local/s3-api/s3rver-*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests pick apart synthesized templates (untyped JSON) and load modules fresh.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
