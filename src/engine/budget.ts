/**
 * budget: yielding to the event loop during a long evaluation. JSONata evaluates an expression
 * in promise continuations, which never let timers, sockets or probes run: a runaway rule held
 * the whole process for its budget (and 300 of them, one after another, for five minutes).
 * JSONata's own guard rails (`timeout`, `stack`, checked on entry to every step) still stop it;
 * this makes the time it uses up shared.
 *
 * JSONata reads `options.timeout` on every step; here it is a getter that, every 32 steps, asks
 * whether the event loop has had a turn in the last SLICE_MS. When it has not, the expression
 * gets an `__evaluate_entry` hook (JSONata awaits it on every step) that gives the event loop a
 * turn (setImmediate) every SLICE_MS, until the evaluation ends. Evaluations that end sooner (all
 * sane ones) never pay for an awaited hook. Measured: docs/rules.md, "Limits".
 */

/** How long evaluations may hold the event loop before they yield, and then between yields, ms. */
export const SLICE_MS = 10;

const ENTRY = Symbol.for('jsonata.__evaluate_entry');

/** When the event loop last had a turn, as far as the probe below knows. */
let lastTurn = Date.now();
let probing = false;

/** How long the event loop has gone without a turn, ms (0 when no probe is out: one is sent). */
function blockedMs(now: number): number {
  if (!probing) {
    probing = true;
    lastTurn = now;
    setImmediate(() => {
      probing = false;
      lastTurn = Date.now();
    });
    return 0;
  }
  return now - lastTurn;
}

/** The entry hook: a turn of the event loop when evaluations have held it for SLICE_MS. */
function entryHook(): Promise<void> | undefined {
  if (Date.now() - lastTurn < SLICE_MS) return undefined;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      lastTurn = Date.now();
      resolve();
    }),
  );
}

/** What the guard needs of a compiled expression. */
interface Assignable {
  assign(name: string | symbol, value: unknown): void;
}

/** JSONata's options for one expression, with the time budget read through the yielding check. */
export class GuardedOptions {
  private steps = 0;
  private hooked = false;
  private compiled: Assignable | undefined;

  constructor(
    private readonly timeoutMs: number,
    readonly stack: number,
    readonly sequence: number,
    readonly RegexEngine: unknown,
  ) {}

  /** The budget, ms; read by JSONata on every step. */
  get timeout(): number {
    if ((++this.steps & 31) === 0 && !this.hooked && this.compiled && blockedMs(Date.now()) >= SLICE_MS) {
      this.hooked = true;
      this.compiled.assign(ENTRY, entryHook);
    }
    return this.timeoutMs;
  }

  /** Binds the options to the expression compiled with them. */
  attach(compiled: Assignable): void {
    this.compiled = compiled;
  }

  /** After an evaluation: the next one starts without the hook. */
  settle(): void {
    if (!this.hooked) return;
    this.hooked = false;
    this.compiled?.assign(ENTRY, undefined);
  }
}
