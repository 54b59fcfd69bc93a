// Lint = module boundaries. The layering is the design, so it is checked, not hoped for:
//   domain      → contracts only, and no framework or infrastructure package;
//   contracts   → nothing;
//   infra libs  → contracts (event-store, artifacts), never services;
//   platform    → infra + domain + contracts;
//   service libs→ platform, infra, domain, contracts; never another service;
//   apps        → anything but another app; testing libs only from specs (and testing → contracts only).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const boundaries = (allowTesting) => {
  const testing = allowTesting ? ['type:testing'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allowCircularSelfDependency: false,
      banTransitiveDependencies: false,
      checkDynamicDependenciesExceptions: [],
      depConstraints: [
        { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: FRAMEWORKS },
        { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', ...testing], bannedExternalImports: FRAMEWORKS },
        { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', ...testing] },
        { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:infra', 'type:domain', 'type:contracts', ...testing] },
        { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:platform', 'type:infra', 'type:domain', 'type:contracts', ...testing] },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:service', 'type:platform', 'type:infra', 'type:domain', 'type:contracts'] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: FRAMEWORKS },
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:service', 'type:platform', 'type:infra', 'type:domain', 'type:contracts', 'type:testing'] },
      ],
    },
  ];
};

const FRAMEWORKS = ['@nestjs/*', 'express', 'better-sqlite3', 'kafkajs', '@eventstore/*', 'class-validator', 'class-transformer', 'rxjs', 'multer', 'prom-client', 'onnxruntime-node'];

export default [
  { ignores: ['node_modules', 'dist', '.nx', 'tools/kafka/.cache', 'data', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@nx': nx, '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@nx/enforce-module-boundaries': boundaries(false),
    },
  },
  // Specs may use the testing helpers; production code may not.
  { files: ['**/*.spec.ts'], rules: { '@nx/enforce-module-boundaries': boundaries(true) } },
];
