/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/core/**/*.test.ts', '<rootDir>/cli/**/*.test.ts', '<rootDir>/test/**/*.test.ts',
    '<rootDir>/workflows/**/*.test.ts', '<rootDir>/activities/**/*.test.ts', '<rootDir>/api/**/*.test.ts',
    '<rootDir>/db/**/*.test.ts', '<rootDir>/packaging/**/*.test.ts', '<rootDir>/bench/**/*.test.ts'],
  // The history recorder runs only under `npm run record:histories` (it rewrites test/fixtures/histories).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(process.env.SUMMIT_RECORD_HISTORIES ? [] : ['/test/record-histories\\.test\\.ts$'])],
  testTimeout: 60000,
};
