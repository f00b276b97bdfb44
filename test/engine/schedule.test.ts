import { expect } from 'chai';
import { CronSchedule, isValidTimeZone, parseDuration } from '../../src/engine/index.js';

describe('engine/schedule', () => {
  it('parses durations made of h, m, s and ms', () => {
    expect(parseDuration('10m')).to.equal(600_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('45s')).to.equal(45_000);
    expect(parseDuration('250ms')).to.equal(250);
    expect(parseDuration('10 minutes')).to.equal(undefined);
  });

  it('fires a 5-field schedule in its time zone', () => {
    const s = CronSchedule.parse('0 22 * * 1-5', 'Europe/Berlin');
    // Tuesday 10 March 2026, 22:00 in Berlin (UTC+1) is 21:00 UTC.
    expect(new Date(s.next(Date.parse('2026-03-10T12:00:00Z'))).toISOString()).to.equal('2026-03-10T21:00:00.000Z');
    // Friday night → the next firing is Monday.
    expect(new Date(s.next(Date.parse('2026-03-13T21:00:00Z'))).toISOString()).to.equal('2026-03-16T21:00:00.000Z');
  });

  it('takes a 6-field schedule with seconds first', () => {
    const s = CronSchedule.parse('30 */5 * * * *');
    expect(new Date(s.next(Date.parse('2026-03-10T12:00:00Z'))).toISOString()).to.equal('2026-03-10T12:00:30.000Z');
  });

  it('rejects the wrong number of fields, bad values and unknown zones', () => {
    expect(() => CronSchedule.parse('* * * *')).to.throw('has 4 fields; expected 5');
    expect(() => CronSchedule.parse('* * * * * * *')).to.throw('has 7 fields; expected 5');
    expect(() => CronSchedule.parse('0 0 32 * *')).to.throw('invalid cron expression "0 0 32 * *"');
    expect(() => CronSchedule.parse('0 0 * * *', 'Europe/Nowhere')).to.throw('unknown time zone "Europe/Nowhere"');
    expect(isValidTimeZone('UTC')).to.equal(true);
  });
});
