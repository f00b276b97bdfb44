// ESLint: typescript-eslint's recommended rules plus the module boundaries of the
// design (docs/architecture.md): each src/ module may import only the modules
// listed for it, and only through their index.js.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const MODULES = ['core', 'client', 'queue', 'informers', 'engine', 'actions', 'daemon', 'cli'];

/** Which modules each module may import (design.md §1). Type-only imports are listed separately. */
const ALLOWED = {
  core: [],
  client: ['core'],
  queue: ['core'],
  informers: ['core', 'client'],
  engine: ['core'],
  actions: ['core', 'client'],
  daemon: MODULES,
  cli: MODULES,
};
/** Modules that may be imported for their types only. */
const TYPES_ONLY = {
  engine: ['informers'],
  actions: ['engine'],
};

/** What the engine may never import: it performs no I/O. */
const NO_IO = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http', 'https',
  'node:https', 'child_process', 'node:child_process', 'undici', 'ws'];

const boundary = (mod) => {
  const forbidden = MODULES.filter(
    (m) => m !== mod && !ALLOWED[mod].includes(m) && !(TYPES_ONLY[mod] ?? []).includes(m),
  );
  const typesOnly = TYPES_ONLY[mod] ?? [];
  const patterns = [
    {
      regex: `^(\\.\\./)+(${MODULES.join('|')})/(?!index\\.js$).+`,
      message: `src/${mod} may use another module only through its index.js (its public face).`,
    },
  ];
  if (forbidden.length > 0) {
    patterns.push({
      regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`,
      message: `src/${mod} may not import ${forbidden.join(', ')} (module boundaries, docs/architecture.md).`,
    });
  }
  if (typesOnly.length > 0) {
    patterns.push({
      regex: `^(\\.\\./)+(${typesOnly.join('|')})(/|$)`,
      allowTypeImports: true,
      message: `src/${mod} may import only types from ${typesOnly.join(', ')} (module boundaries, docs/architecture.md).`,
    });
  }
  const paths = mod === 'engine' ? NO_IO.map((name) => ({ name, message: 'src/engine performs no I/O (design.md §1).' })) : [];
  return {
    files: [`src/${mod}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns, paths }] },
  };
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**', 'test/cluster/**', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', 'fetch', 'setTimeout', 'setInterval', 'process'] },
  },
  ...MODULES.map(boundary),
);
