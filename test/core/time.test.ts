import { expect } from 'chai';
import { formatMicroTime, parseDuration } from '../../src/core/index.js';

describe('core/time', () => {
  it('parses durations of one or more number-unit pairs into milliseconds', () => {
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('10m')).to.equal(600_000);
    expect(parseDuration('250ms')).to.equal(250);
    expect(parseDuration('0.5s')).to.equal(500);
  });

  it('rejects malformed durations instead of guessing', () => {
    for (const bad of ['', '10', '5x10s', 's', '1d', '-1s', '1 h']) expect(parseDuration(bad), bad).to.equal(undefined);
  });

  it('formats a MicroTime with six fractional digits', () => {
    expect(formatMicroTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).to.equal('2026-01-02T03:04:05.678000Z');
  });
});
