import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSourceFiles, RuleFileError } from '../../src/daemon/index.js';

describe('daemon/rule-files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reflex-rule-files-'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'b.yaml'), 'b');
    await writeFile(join(dir, 'a.yml'), 'a');
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    await writeFile(join(dir, 'sub', 'c.yaml'), 'c');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a directory recursively, YAML files only, in name order', async () => {
    const files = await readSourceFiles([dir]);
    expect(files).to.deep.equal([
      { file: join(dir, 'a.yml'), text: 'a' },
      { file: join(dir, 'b.yaml'), text: 'b' },
      { file: join(dir, 'sub', 'c.yaml'), text: 'c' },
    ]);
  });

  it('reads a file given by name whatever its ending', async () => {
    expect(await readSourceFiles([join(dir, 'notes.txt')])).to.deep.equal([{ file: join(dir, 'notes.txt'), text: 'ignored' }]);
  });

  it('names the path it cannot read', async () => {
    const err = await readSourceFiles([join(dir, 'gone.yaml')]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RuleFileError);
    expect((err as RuleFileError).code).to.equal('ERR_RULE_FILE');
    expect((err as Error).message).to.equal(`cannot read ${join(dir, 'gone.yaml')}: no such file or directory`);
  });
});
