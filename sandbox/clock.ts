/**
 * The sandbox's clock: the wall clock plus however far a test has moved it on. Everything that
 * stamps a change (the mutator, the write routes, the expiry job) takes its time from here, so that
 * `POST /_sandbox/clock` ages the whole book at once and a 14-day deadline can be passed in a test.
 */

export class SandboxClock {
  private offsetMs = 0;
  private lastStampMs = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  nowMs(): number {
    return this.wallClock() + this.offsetMs;
  }

  /** How far the clock runs ahead of the wall clock. */
  get advancedMs(): number {
    return this.offsetMs;
  }

  /** Moves the clock forward; it never goes back, as the service's own time does not. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the clock only moves forward, not by ${ms} ms`);
    this.offsetMs += ms;
  }

  /**
   * The instant to stamp a change with: now, but after `after` (the referral's previous
   * updatedDateTime) and after every earlier stamp, so two changes never share or reverse an order.
   */
  stamp(after?: string): Date {
    const floor = after ? Date.parse(after) + 1 : 0;
    this.lastStampMs = Math.max(this.nowMs(), this.lastStampMs + 1, Number.isNaN(floor) ? 0 : floor);
    return new Date(this.lastStampMs);
  }
}
