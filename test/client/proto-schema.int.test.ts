/**
 * The protobuf table is generated from the Kubernetes Go types (tools/proto-schema): the
 * committed file must be what the generator writes, and the generator's own test checks every
 * field against each package's generated.proto. Needs Go, as the control plane's build does.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = join(process.cwd(), 'tools', 'proto-schema');
const env = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };

function go(args: string[]): string {
  const res = spawnSync('go', args, { cwd: dir, env, encoding: 'utf8' });
  if (res.error || res.status !== 0) throw new Error(`go ${args.join(' ')} failed: ${(res.error?.message ?? res.stderr).trim().split('\n').slice(-5).join(' | ')}`);
  return res.stderr + res.stdout;
}

describe('the protobuf schema table (tools/proto-schema)', function () {
  this.timeout(600_000); // a first build of the generator compiles client-go's scheme

  it('is what the generator writes from the Go types (npm run gen:proto)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'proto-schema-'));
    try {
      const out = join(tmp, 'schema.generated.ts');
      const log = go(['run', '.', out]);
      expect(log).to.match(/proto-schema: \d+ kinds, \d+ messages/);
      const committed = readFileSync(join(process.cwd(), 'src', 'client', 'proto', 'schema.generated.ts'), 'utf8');
      expect(readFileSync(out, 'utf8') === committed, 'src/client/proto/schema.generated.ts differs from the generator\'s output: run npm run gen:proto').to.equal(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('matches every field of every message with the generated.proto files (go test)', () => {
    expect(go(['test', '-count=1', '.'])).to.match(/^ok\s/m);
  });
});
