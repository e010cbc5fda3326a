/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: false },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  // jest's node environment, failing a file that leaves a server, socket or timer running (see the file).
  testEnvironment: '<rootDir>/test/helpers/leak-check-environment.js',
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  // ESM-only dependencies that Node 20 loads natively (require(esm)) but jest's module sandbox cannot.
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie)/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The server's OpenAPI document, once per run: the mini-program tests' stand-in replies are checked against it.
  globalSetup: '<rootDir>/test/helpers/openapi-global-setup.ts',
  // A guard against a hang, not a speed check: a file's beforeAll builds the app and imports, and on a busy 2-core
  // machine that alone has taken over a minute.
  testTimeout: 120_000,
  maxWorkers: 2,
  // Each file builds its own app and database. A server, socket or child process still open when a file ends fails
  // that file (the test environment above); forceExit stays off so that nothing is cut short silently. A handle opened
  // after a file's end is only reported by jest's "worker failed to exit gracefully" warning.
  forceExit: false,
};
