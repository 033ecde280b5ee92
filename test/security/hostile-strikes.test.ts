/**
 * A plugin that fails again and again is restarted with exponential backoff and, after 3 failures within
 * the window (the default strike policy, used here unchanged), struck out for the rest of the kernel run:
 * its calls answer CAD_ERR_PLUGIN_STRUCK_OUT, its tools list as disabled, the audit log holds the timeouts
 * and the strike-out, and every other plugin keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFixture, auditRows, call, closeKernel, expectCallAudited, expectCoded, expectHostServes, openKernel, timed } from './hostile-helpers.js';

const S = 'hostile-strikes';

describe('strikes: a plugin that keeps timing out', () => {
  let k: any;

  beforeAll(async () => {
    k = await openKernel(); // default policy: 3 strikes in 60 s, backoff 100 ms doubling
    await addFixture(k, S);
  });
  afterAll(async () => {
    await closeKernel(k);
  });

  it('times out, is restarted after a backoff (degraded meanwhile), and serves its other tool again', async () => {
    const first = await timed(k, 'hk_spin');
    const failedAt = performance.now();
    expectCoded(first.r, 'CAD_ERR_SANDBOX_TIMEOUT', S, 'hk_spin');
    const status = Object.fromEntries(k.listTools().filter((t: any) => t.plugin === S).map((t: any) => [t.name, t.status]));
    // Within the 100 ms backoff the tools list as degraded (checked only if this ran that soon).
    if (performance.now() - failedAt < 80) expect(status).toEqual({ hk_ok: 'degraded', hk_spin: 'degraded' });
    else expect(Object.values(status).every((v) => v === 'degraded' || v === 'available')).toBe(true);
    await expectHostServes(k);
    // The next call waits out the 100 ms backoff, restarts the isolate and runs.
    const ok = await timed(k, 'hk_ok');
    expect(ok.r).toMatchObject({ ok: true, result: { ok: true } });
    expect(auditRows(k, S, 'plugin.load').length).toBe(2);
  });

  it('is struck out on the third failure, with growing backoff between restarts', async () => {
    const second = await timed(k, 'hk_spin');
    expectCoded(second.r, 'CAD_ERR_SANDBOX_TIMEOUT', S, 'hk_spin');
    const third = await timed(k, 'hk_spin');
    expectCoded(third.r, 'CAD_ERR_SANDBOX_TIMEOUT', S, 'hk_spin');
    // Third call: 200 ms of backoff (second strike) before the 100 ms timeout.
    expect(third.ms).toBeGreaterThanOrEqual(250);
    expectCallAudited(k, S, 'hk_spin', 'CAD_ERR_SANDBOX_TIMEOUT', 'timeout');

    for (const tool of ['hk_spin', 'hk_ok']) {
      const { r, ms } = await timed(k, tool);
      expectCoded(r, 'CAD_ERR_PLUGIN_STRUCK_OUT', S, tool);
      expect(r.error.message).toContain('failed 3 times');
      expect(ms).toBeLessThan(250); // refused at once, no isolate started
      expectCallAudited(k, S, tool, 'CAD_ERR_PLUGIN_STRUCK_OUT', 'error');
    }
    await expectHostServes(k);
  });

  it('lists its tools as disabled, with the reason and a fix', () => {
    const tools = k.listTools().filter((t: any) => t.plugin === S);
    expect(tools.map((t: any) => t.name).sort()).toEqual(['hk_ok', 'hk_spin']);
    for (const t of tools) {
      expect(t.status).toBe('disabled');
      expect(t.reason).toContain('failed 3 times');
      expect(t.fix).toContain('audit tail');
    }
    expect(k.listTools().find((t: any) => t.name === 'hello_greet').status).toBe('available');
  });

  it('left audit rows for each timeout and for the strike-out', () => {
    const timeouts = auditRows(k, S, 'plugin.timeout');
    expect(timeouts.map((r) => r.detail.strikes)).toEqual([1, 2]);
    for (const r of timeouts) expect(r).toMatchObject({ outcome: 'timeout', code: 'CAD_ERR_SANDBOX_TIMEOUT' });
    expect(timeouts.map((r) => r.detail.backoffMs)).toEqual([100, 200]);
    const struck = auditRows(k, S, 'plugin.struck_out');
    expect(struck).toHaveLength(1);
    expect(struck[0]).toMatchObject({ code: 'CAD_ERR_PLUGIN_STRUCK_OUT', detail: { strikes: 3 } });
    // Loaded three times: once, then after each of the first two strikes; never after the third.
    expect(auditRows(k, S, 'plugin.load').filter((r) => r.outcome === 'ok')).toHaveLength(3);
  });

  it('other plugins keep serving, repeatedly', async () => {
    for (let i = 0; i < 5; i++) await expectHostServes(k);
    expect((await call(k, 'hello_count', { name: 'Strike' })).result).toEqual({ name: 'Strike', count: 1 });
  });
});
