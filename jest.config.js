/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/core/**/*.test.ts', '<rootDir>/cli/**/*.test.ts', '<rootDir>/test/**/*.test.ts',
    '<rootDir>/workflows/**/*.test.ts', '<rootDir>/activities/**/*.test.ts', '<rootDir>/api/**/*.test.ts',
    '<rootDir>/db/**/*.test.ts', '<rootDir>/packaging/**/*.test.ts', '<rootDir>/bench/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60000,
};
