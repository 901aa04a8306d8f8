// One config, four tiers: unit specs beside the code, integration (real NATS + Ollama stand-in), e2e (the stack
// started the way `npm start` starts it) and browser (real Chromium).
const moduleNameMapper = {
  '^@argus/(contracts|config|messaging|inference|imaging|telemetry|worker|url-intake)$':
    '<rootDir>/libs/$1/src',
  // A task's definition, from its service folder: @argus/task-<id> is services/<id>/src.
  '^@argus/task-([a-z-]+)$': '<rootDir>/services/$1/src',
};
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
};
const common = { rootDir: __dirname, testEnvironment: 'node', moduleNameMapper, transform };
// Every response a test gets from a gateway is checked against docs/openapi.json (issue 16).
const conformance = ['<rootDir>/test/support/openapi-conformance-setup.ts'];

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/services/**/*.spec.ts',
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/test/support/**/*.spec.ts',
        '<rootDir>/eval/**/*.spec.ts',
        '<rootDir>/cli/**/*.spec.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // The services run in process here, PaddleOCR among them: onnxruntime-node hands back typed arrays of the main
      // realm, which a spec's own realm would reject (test/support/onnx-test-environment.ts).
      testEnvironment: '<rootDir>/test/support/onnx-test-environment.ts',
      setupFilesAfterEnv: conformance,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      setupFilesAfterEnv: conformance,
    },
    {
      // Real Chromium (Debian's, driven by playwright-core) against a gateway started in this process.
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      testEnvironment: '<rootDir>/test/support/onnx-test-environment.ts',
    },
  ],
};
