// One jest run, three tiers chosen by file name: *.unit.spec.ts, *.int.spec.ts, *.e2e.spec.ts.
// `npx jest --selectProjects unit` runs one tier alone.
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace(/[/.]/g, '\\$&')}$`,
    `<rootDir>/${target}`,
  ]),
);

const tier = (name) => ({
  displayName: name,
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/{apps,libs,tools}/**/*.${name}.spec.ts`],
  transform: { '^.+\\.[tj]s$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  // ESM-only packages are compiled to CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-compressors|hysnappy|fzstd|hyparquet-[a-z]+)/)'],
  moduleNameMapper,
  setupFiles: ['reflect-metadata'],
  setupFilesAfterEnv: [`<rootDir>/tools/jest/${name}-timeout.ts`],
});

module.exports = {
  projects: [tier('unit'), tier('int'), tier('e2e')],
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.js'],
  globalSetup: '<rootDir>/tools/jest/global-setup.js',
  globalTeardown: '<rootDir>/tools/jest/global-teardown.js',
};
