import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
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

describe('readSourceFiles on a ConfigMap volume', () => {
  it('reads each file once, through the visible names, skipping the hidden ..data copies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reflex-cmvol-'));
    try {
      await mkdir(join(dir, '..2026_11_21_10_00_00.123'));
      await writeFile(join(dir, '..2026_11_21_10_00_00.123', 'rules.yaml'), 'kind: Rule\n');
      await symlink('..2026_11_21_10_00_00.123', join(dir, '..data'));
      await symlink(join('..data', 'rules.yaml'), join(dir, 'rules.yaml'));
      const files = await readSourceFiles([dir]);
      expect(files.map((f) => f.file.slice(dir.length))).to.deep.equal(['/rules.yaml']);
      expect(files[0].text).to.equal('kind: Rule\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
