import { expect } from 'chai';
import { parseYamlDocuments } from '../../src/engine/yaml-source.js';

describe('engine/yaml-source', () => {
  it('keeps the line and column of every node of every document', () => {
    const docs = parseYamlDocuments('a: 1\nb:\n  - x: hello\n---\nc: [1, {d: 2}]\n');
    expect(docs).to.have.length(2);
    expect(docs[0].positions.at('/b/0/x')).to.deep.equal({ line: 3, column: 8 });
    expect(docs[0].positions.keyAt('/b/0/x')).to.deep.equal({ line: 3, column: 5 });
    expect(docs[1].index).to.equal(1);
    expect(docs[1].positions.at('/c/1/d')).to.deep.equal({ line: 5, column: 12 });
  });

  it('falls back to the nearest existing ancestor for a missing path', () => {
    const [doc] = parseYamlDocuments('spec:\n  watch: {}\n');
    expect(doc.positions.at('/spec/watch/kind')).to.deep.equal({ line: 2, column: 10 });
  });

  it('maps a character of a quoted scalar to its column, counting escapes as one character', () => {
    const [doc] = parseYamlDocuments('w: "a\\"b + c"\n');
    expect(doc.positions.inScalar('/w', 4)).to.deep.equal({ line: 1, column: 10 }); // the "+"
  });

  it('maps a character of a folded block to its line and column', () => {
    const [doc] = parseYamlDocuments('w: >-\n  first line\n  second ( line\n');
    // "first line second ( line": index 18 is "("
    expect(doc.positions.inScalar('/w', 18)).to.deep.equal({ line: 3, column: 10 });
  });

  it('maps a character of a literal block to its line and column', () => {
    const [doc] = parseYamlDocuments('w: |\n    abc\n    de(f\n');
    expect(doc.positions.inScalar('/w', 6)).to.deep.equal({ line: 3, column: 7 });
  });

  it('confines a syntax error to its own document', () => {
    const docs = parseYamlDocuments('a: 1\n---\nb: [1\n---\nc: 3\n');
    expect(docs.map((d) => d.value)).to.deep.equal([{ a: 1 }, undefined, { c: 3 }]);
    expect(docs[1].error?.at.line).to.be.within(3, 4);
  });
});
