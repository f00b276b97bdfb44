import { expect } from 'chai';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/control-plane.js';

/** Lints `code` as if it were the file `path`, returning the boundary messages. */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${path}` });
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('module boundaries (lint)', function () {
  this.timeout(60_000);

  it('rejects an import from the engine into the client', async () => {
    const errors = await boundaryErrors('src/engine/x.ts', "import { a } from '../client/index.js';\nexport const b = a;\n");
    expect(errors).to.have.length(1);
    expect(errors[0]).to.contain('src/engine may not import client');
  });

  it('rejects I/O modules in the engine', async () => {
    const errors = await boundaryErrors('src/engine/x.ts', "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n");
    expect(errors[0]).to.contain('performs no I/O');
  });

  it('allows type-only imports from informers into the engine, but not values', async () => {
    expect(await boundaryErrors('src/engine/x.ts', "import type { A } from '../informers/index.js';\nexport type B = A;\n")).to.deep.equal([]);
    const errors = await boundaryErrors('src/engine/x.ts', "import { a } from '../informers/index.js';\nexport const b = a;\n");
    expect(errors[0]).to.contain('only types from informers');
  });

  it('rejects reaching past another module\'s index', async () => {
    const errors = await boundaryErrors('src/informers/x.ts', "import { a } from '../client/transport.js';\nexport const b = a;\n");
    expect(errors[0]).to.contain('only through its index.js');
  });

  it('rejects the client importing the informers, and allows the daemon anything', async () => {
    expect(await boundaryErrors('src/client/x.ts', "import { a } from '../informers/index.js';\nexport const b = a;\n")).to.have.length(1);
    expect(await boundaryErrors('src/daemon/x.ts', "import { a } from '../informers/index.js';\nexport const b = a;\n")).to.deep.equal([]);
  });

  it('rejects the queue importing the client', async () => {
    expect(await boundaryErrors('src/queue/x.ts', "import { a } from '../client/index.js';\nexport const b = a;\n")).to.have.length(1);
  });
});
