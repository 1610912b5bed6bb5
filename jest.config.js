/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Quiet test logs: aws-cdk-lib's "Bundling asset ..." lines are dropped (test/helpers/quiet-bundling.ts).
  setupFiles: ['<rootDir>/test/helpers/quiet-bundling.ts'],
  // ts-jest transpiles each file alone (fast): tsconfig.json sets isolatedModules.
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testTimeout: 120000,
};
