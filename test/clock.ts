import type { Clock } from '../src/lib/clock.ts';

/** A clock tests can move forward (expiry and idempotency windows follow the injected clock). */
export function movableClock(): Clock & { advance(ms: number): void; reset(): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance(ms: number) {
      offset += ms;
    },
    reset() {
      offset = 0;
    },
  };
}
