import type { Clock } from '../src/lib/clock.ts';

/** A clock tests can move forward (expiry and idempotency windows follow the injected clock). */
export function movableClock(): Clock & { advance(ms: number): void; reset(): void; freeze(): void } {
  let offset = 0;
  let frozen: number | undefined;
  return {
    now: () => new Date((frozen ?? Date.now()) + offset),
    advance(ms: number) {
      offset += ms;
    },
    /** Stops the clock where it is (until reset): only advance() moves it. */
    freeze() {
      frozen = Date.now();
    },
    reset() {
      offset = 0;
      frozen = undefined;
    },
  };
}
