import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles, repositoryRoot } from '../../src/cli/generate.js';

describe('generated files (npm run gen)', () => {
  for (const f of generatedFiles()) {
    it(`${f.path} is what the code generates`, () => {
      let committed = '';
      try {
        committed = readFileSync(join(repositoryRoot, f.path), 'utf8');
      } catch {
        // missing: the comparison below fails with the instruction
      }
      expect(committed === f.text, `${f.path} is stale: run \`npm run gen\` and commit the result`).to.equal(true);
    });
  }
});
