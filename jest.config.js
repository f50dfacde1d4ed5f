// Jest runs the TypeScript sources through ts-jest in transpile-only mode
// (tsconfig's isolatedModules); `npm run typecheck` does the type checking.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testMatch: ['<rootDir>/**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // Real servers, real processes, a busy 2-core CI box: give each test room.
  testTimeout: 60_000,
  // Suites that spawn `npm run …` processes are heavy; two at a time fits 2 cores.
  maxWorkers: 2,
  // After its last suite a worker gets this long to exit by itself before Jest
  // kills it and warns "failed to exit gracefully". The default, 500 ms, is too
  // short on a loaded 2-core box (jestjs/jest#11354): the warning came in 2 of
  // 5 full runs here, while a probe run 500 ms after each suite found no socket,
  // server, child process or timer left open. A real leak still shows, because a
  // handle left open keeps a worker running past 5 s too.
  workerGracefulExitTimeout: 5_000,
  // Each run gets a MySQL database and account of its own (dropped at the end),
  // so clones testing side by side never share tables or a password.
  globalSetup: '<rootDir>/shared/test/mysql-global-setup.ts',
  globalTeardown: '<rootDir>/shared/test/mysql-global-teardown.ts',
};
