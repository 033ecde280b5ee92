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
      const got = watchdogMs(ms);
      expect(Number.isInteger(got)).toBe(true);
      expect(got).toBeGreaterThanOrEqual(ms);
      expect(got).toBeLessThanOrEqual(ms + step + 1);
    }
  });

  it('puts the deadlines of calls made at different moments on the same grid point', () => {
    const deadlines = new Set<number>();
    const start = performance.now();
    while (performance.now() - start < 20) {
      const now = performance.now();
      // The deadline isolated-vm computes: now + the integer timeout, to within the ms rounding.
      deadlines.add(Math.floor((now + watchdogMs(1000)) / 100));
    }
    // 20 ms of calls with a 1 s limit (grid 100 ms) end on at most two grid points, not one per call.
    expect(deadlines.size).toBeLessThanOrEqual(2);
  });
});
