/** schedule: durations (`resync: 10m`), cron schedules (5 or 6 fields) and IANA time zones. */
import { CronExpressionParser } from 'cron-parser';

/** Durations are core's (`parseDuration`), shared with the configuration and the actions. */
export { parseDuration } from '../core/index.js';

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A validated cron schedule in a time zone. */
export class CronSchedule {
  private constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {}

  /** Parses a 5-field (minute…) or 6-field (second…) expression; throws Error with the reason. */
  static parse(expression: string, timezone = 'UTC'): CronSchedule {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      throw new Error(`cron expression "${expression}" has ${fields.length} fields; expected 5 (minute hour day month weekday) or 6 (second first)`);
    }
    if (!isValidTimeZone(timezone)) throw new Error(`unknown time zone "${timezone}": expected an IANA name such as UTC or Europe/Berlin`);
    try {
      CronExpressionParser.parse(expression, { tz: timezone, strict: false });
    } catch (err) {
      throw new Error(`invalid cron expression "${expression}": ${(err as Error).message}`, { cause: err });
    }
    return new CronSchedule(expression, timezone);
  }

  /** The first firing strictly after `afterMs` (epoch ms). */
  next(afterMs: number): number {
    const it = CronExpressionParser.parse(this.expression, { tz: this.timezone, currentDate: new Date(afterMs) });
    return it.next().getTime();
  }
}
