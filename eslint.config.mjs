// Lint = module boundaries. The layering is the design, so it is checked, not hoped for.
// Every project carries one `type:*` tag (its layer) and one `scope:*` tag (who owns it).
// Layers (type:*):
//   domain      → contracts only, and no framework or infrastructure package;
//   contracts   → nothing;
//   infra libs  → infra + contracts, never a domain or a service;
//   platform    → infra + contracts (no domain: every service uses it);
//   service libs→ platform, infra, domain, contracts;
//   apps, tools → services, platform, infra, contracts (no domain); testing libs only from specs
//                 (and testing → contracts only);
//   client      → contracts only (the typed HTTP client of the public API);
//   cli         → client and contracts only (apps/cli: the `mrw` command);
//   console     → client and contracts only, and nothing of Node (apps/console: the web page).
// Owners (scope:*): services share only contracts and shared infrastructure. A service's code
// (its lib, its pure domain lib, its app) may import its own scope and `scope:shared`, never
// another service's, so `@mrw/domain` (the registry's deciders, scope:registry) is the
// registry's alone: the others learn its facts from events and @mrw/contracts.
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
        { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', ...testing] },
        { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:platform', 'type:infra', 'type:domain', 'type:contracts', ...testing] },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:service', 'type:platform', 'type:infra', 'type:contracts'] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: FRAMEWORKS },
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:service', 'type:platform', 'type:infra', 'type:contracts', 'type:testing', 'type:client'] },
        // The API client speaks HTTP only: it knows the contracts, no service and no framework.
        { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: FRAMEWORKS },
        // The CLI is a client of the API, like any user's script.
        { sourceTag: 'type:cli', onlyDependOnLibsWithTags: ['type:client', 'type:contracts'], bannedExternalImports: FRAMEWORKS },
        // The console runs in a browser: the API client and the contracts' types, no server framework, no Node module.
        { sourceTag: 'type:console', onlyDependOnLibsWithTags: ['type:client', 'type:contracts'], bannedExternalImports: FRAMEWORKS },
        { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:shared'] },
        { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared'] },
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
        ...SERVICES.map((service) => ({
          sourceTag: `scope:${service}`,
          onlyDependOnLibsWithTags: [`scope:${service}`, 'scope:shared'],
        })),
        // The suite and the tools start every service, but know none of their deciders (type:* above).
        { sourceTag: 'scope:suite', onlyDependOnLibsWithTags: [...SERVICES.map((service) => `scope:${service}`), 'scope:shared'] },
      ],
    },
  ];
};

const BARE_LIMIT = 'a bare LIMIT ? / OFFSET ? makes SQLite prepare the statement again on every run: write LIMIT +? / OFFSET +?';

const SERVICES = ['registry', 'evaluator', 'approvals', 'archival', 'deployer'];

const FRAMEWORKS = ['@nestjs/*', 'express', 'better-sqlite3', 'kafkajs', '@eventstore/*', 'class-validator', 'class-transformer', 'rxjs', 'multer', 'prom-client', 'onnxruntime-node'];

export default [
  { ignores: ['node_modules', 'dist', '.nx', 'tools/kafka/.cache', 'data', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@nx': nx, '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@nx/enforce-module-boundaries': boundaries(false),
    },
  },
  // Specs may use the testing helpers; production code may not.
  // The console runs in a browser: no Node module (the boundary rule above does not see built-ins).
  {
    files: ['apps/console/src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'the console runs in a browser' }] }] },
  },
  // The console's build config runs in Node, not in the page.
  { files: ['apps/console/vite.config.mts'], rules: { '@nx/enforce-module-boundaries': 'off' } },
  { files: ['**/*.spec.ts'], rules: { '@nx/enforce-module-boundaries': boundaries(true) } },
  // SQLite (STAT4, as better-sqlite3 builds it) prepares a statement with a bare `LIMIT ?` or
  // `OFFSET ?` again on every run: 3× the cost of a stream read. Write `LIMIT +?` (docs/decisions.md,
  // "Performance (issue 16, fourth pass)").
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'Literal[value=/(LIMIT|OFFSET) \\?/]', message: BARE_LIMIT },
        { selector: 'TemplateElement[value.raw=/(LIMIT|OFFSET) \\?/]', message: BARE_LIMIT },
      ],
    },
  },
];
