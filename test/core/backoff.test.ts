import { expect } from 'chai';
import { ExponentialBackoff } from '../../src/core/index.js';

/** The delays of `n` consecutive failures. */
function delays(b: ExponentialBackoff, n: number): number[] {
  return Array.from({ length: n }, () => b.next());
}

describe('ExponentialBackoff', () => {
  const rows: Array<{ name: string; random: number; jitter: number; want: number[] }> = [
    { name: 'without jitter doubles from 800 ms and stays at the 30 s ceiling', random: 0, jitter: 0.1, want: [800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000] },
    { name: 'with the most jitter adds 10 % to every delay, the ceiling included', random: 0.999_999, jitter: 0.1, want: [880, 1760, 3520, 7040, 14_080, 28_160, 33_000, 33_000] },
    { name: 'with jitter 1 spreads a delay at the ceiling over 30–60 s', random: 0.5, jitter: 1, want: [1200, 2400, 4800, 9600, 19_200, 38_400, 45_000, 45_000] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = delays(new ExponentialBackoff({ jitter: row.jitter, random: () => row.random }), row.want.length);
      expect(got.map((d) => Math.round(d))).to.deep.equal(row.want);
    });
  }

  it('gives clients failing together different delays at the ceiling', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const atCeiling = Array.from({ length: 20 }, () => {
      const b = new ExponentialBackoff({ jitter: 1, random });
      return delays(b, 10).at(-1) ?? 0;
    });
    expect(Math.min(...atCeiling)).to.be.at.least(30_000);
    expect(Math.max(...atCeiling)).to.be.below(60_000);
    expect(new Set(atCeiling.map((d) => Math.round(d / 1000))).size, 'distinct seconds among 20 clients').to.be.above(5);
  });

  it('starts over from the first delay after reset', () => {
    const b = new ExponentialBackoff({ random: () => 0 });
    delays(b, 5);
    b.reset();
    expect(b.next()).to.equal(800);
    expect(b.attempts).to.equal(1);
  });

  it('never overflows after very many failures', () => {
    const b = new ExponentialBackoff({ random: () => 0 });
    expect(delays(b, 2000).at(-1)).to.equal(30_000);
  });
});
