import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { EvalErrorCode, RuleEvaluationError } from '../../src/engine/index.js';
import { isOverrun, RuleBreaker } from '../../src/daemon/rule-breaker.js';

const overrun = (code: string = EvalErrorCode.timeout) => new RuleEvaluationError('r', 'when', '$f(40)', 'ran out of its time budget (1000 ms)', { code });

describe('daemon/rule-breaker', () => {
  it('counts timeouts, depth overflows and limit errors as overruns, nothing else', () => {
    expect(isOverrun(overrun(EvalErrorCode.timeout))).to.equal(true);
    expect(isOverrun(overrun(EvalErrorCode.depth))).to.equal(true);
    expect(isOverrun(overrun(EvalErrorCode.limit))).to.equal(true);
    expect(isOverrun(overrun(EvalErrorCode.runtime))).to.equal(false);
    expect(isOverrun(new Error('422'))).to.equal(false);
  });

  it('opens on the third overrun within the window, once, with a one-line reason', () => {
    const clock = new FakeClock(0);
    const b = new RuleBreaker({ clock });
    expect(b.failed('r', overrun())).to.equal(undefined);
    expect(b.failed('r', new Error('other'))).to.equal(undefined);
    expect(b.failed('r', overrun())).to.equal(undefined);
    const s = b.failed('r', overrun());
    expect(s?.until).to.equal(300_000);
    expect(s?.message).to.match(/^rule r suspended for 300 s: 3 evaluations within 60 s ran out of their budget or past an evaluation limit; the last: rule "r": when/);
    expect(s?.message).to.not.include('\n');
    expect(b.suspended('r')).to.equal(s);
    expect(b.failed('r', overrun())).to.equal(undefined);
    expect(b.suspended('other')).to.equal(undefined);
  });

  it('does not open on overruns spread wider than the window', () => {
    const clock = new FakeClock(0);
    const b = new RuleBreaker({ clock });
    for (let i = 0; i < 5; i++) {
      expect(b.failed('r', overrun())).to.equal(undefined);
      clock.advance(31_000);
    }
    expect(b.suspended('r')).to.equal(undefined);
  });

  it('closes after the cool-down and calls back (the controller sweeps the rule); opening again doubles it', () => {
    const clock = new FakeClock(0);
    const closed: string[] = [];
    const b = new RuleBreaker({ clock, onClosed: (r) => closed.push(r) });
    for (let i = 0; i < 3; i++) b.failed('r', overrun());
    clock.advance(299_999);
    expect(b.suspended('r')).to.not.equal(undefined);
    clock.advance(1);
    expect(b.suspended('r')).to.equal(undefined);
    expect(closed).to.deep.equal(['r']);
    for (let i = 0; i < 3; i++) b.failed('r', overrun());
    expect(b.suspended('r')?.until).to.equal(300_000 + 600_000);
  });

  it('forgets a rule that changed: closed at once, no timer left behind', () => {
    const clock = new FakeClock(0);
    const closed: string[] = [];
    const b = new RuleBreaker({ clock, onClosed: (r) => closed.push(r) });
    for (let i = 0; i < 3; i++) b.failed('r', overrun());
    expect(b.forget('r')).to.equal(true);
    expect(b.suspended('r')).to.equal(undefined);
    clock.advance(600_000);
    expect(closed).to.deep.equal([]);
    expect(b.forget('r')).to.equal(false);
  });
});
