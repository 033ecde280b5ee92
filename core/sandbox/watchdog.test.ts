/**
 * watchdogMs (sandbox.ts): isolated-vm's timeout for a synchronous entry is never shorter than asked, at
 * most a tenth (≤ 100 ms) longer, and ends on a grid, so that many entries' deadlines coincide.
 */
import { describe, expect, it } from 'vitest';
import { watchdogMs } from './sandbox.js';

describe('watchdogMs', () => {
  it('never shortens a limit and lengthens it by at most a tenth, capped at 100 ms', () => {
    for (const ms of [1, 5, 50, 250, 1000, 5000, 30_000]) {
      const step = Math.max(1, Math.min(100, Math.floor(ms / 10)));
      for (const now of [0, 0.4, 17.25, 99.999, 123_456.789, performance.now()]) {
        const got = watchdogMs(ms, now);
        expect(Number.isInteger(got)).toBe(true);
        expect(got).toBeGreaterThanOrEqual(ms);
        expect(got).toBeLessThanOrEqual(ms + step + 1);
      }
    }
  });

  it('puts the deadlines of calls made at different moments on the same grid point', () => {
    // Calls spread over 20 ms with a 1 s limit (grid 100 ms): isolated-vm's deadline is the moment of the
    // call plus the whole-millisecond timeout, so every one falls within 1 ms after the same grid point.
    const deadlines = new Set<number>();
    for (let now = 5_000.3; now < 5_020.3; now += 0.37) deadlines.add(Math.floor((now + watchdogMs(1000, now)) / 100));
    expect([...deadlines]).toEqual([61]);
  });
});
