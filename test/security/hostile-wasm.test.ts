/**
 * A plugin granted `wasm` against its memory limit. WebAssembly memory lives outside the V8 heap, so
 * isolated-vm's memoryLimit does not see it; the prelude caps every memory the plugin can make (from JS
 * or defined by a module, per instance) so that together they stay within sandbox.memoryMb (64 MB by
 * default). Growing past that fails inside the plugin (RangeError, or -1 from memory.grow), the host keeps
 * serving, and hangs inside wasm (a loop, Atomics.wait on shared memory) time out like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MANY_STRIKES, addFixture, call, closeKernel, expectCallAudited, expectCoded, expectHostServes, lastCallRow, openKernel, timed,
} from './hostile-helpers.js';

const W = 'hostile-wasm';
const LIMIT_BYTES = 64 * 1024 * 1024;

describe('hostile plugin with the wasm permission', () => {
  let k: any;

  beforeAll(async () => {
    k = await openKernel({ strikePolicy: MANY_STRIKES });
    await addFixture(k, W);
  });
  afterAll(async () => {
    await closeKernel(k);
  });

  /** Restarts the plugin's isolate (a wasm loop times out), so the next case starts with a full budget. */
  async function freshIsolate(): Promise<void> {
    expectCoded(await call(k, 'hw_spin'), 'CAD_ERR_SANDBOX_TIMEOUT', W, 'hw_spin');
  }

  it('sees WebAssembly, still no global SharedArrayBuffer', async () => {
    const r = await call(k, 'hw_probe');
    expect(r.result).toEqual({ typeofWebAssembly: 'object', typeofSharedArrayBuffer: 'undefined' });
  });

  it('growing a JS-made WebAssembly.Memory towards 1 GB stops at the limit with a RangeError inside the plugin', async () => {
    const r = await call(k, 'hw_grow_js');
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.result.error).toMatch(/^RangeError: /);
    expect(r.result.bytes).toBeGreaterThan(0);
    expect(r.result.bytes).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(lastCallRow(k, W, 'hw_grow_js')).toMatchObject({ outcome: 'ok' });
    await expectHostServes(k);
  });

  it('memory.grow from inside wasm, on a module memory declared without a maximum, stops at the limit', async () => {
    await freshIsolate();
    const r = await call(k, 'hw_grow_wasm');
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.result.error).toBe('memory.grow returned -1');
    expect(r.result.bytes).toBeGreaterThan(0);
    expect(r.result.bytes).toBeLessThanOrEqual(LIMIT_BYTES);
    await expectHostServes(k);
  });

  it('instantiating the same module again and again does not multiply memory past the limit', async () => {
    await freshIsolate();
    const r = await call(k, 'hw_multiply');
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.result.error).toMatch(/^RangeError: .*sandbox\.memoryMb/);
    expect(r.result.bytes).toBeLessThanOrEqual(LIMIT_BYTES);
    await expectHostServes(k);
  });

  it('the budget holds across calls of the same isolate', async () => {
    // The previous case used the whole budget; nothing more can be had until the plugin restarts.
    const r = await call(k, 'hw_grow_js');
    expect(r.result.error).toMatch(/^RangeError: /);
    expect(r.result.bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('the async WebAssembly.instantiate(bytes) path is capped too, and otherwise never settles: contained', async () => {
    // With the budget used up, the async path refuses at once, like the sync one.
    const refused = await call(k, 'hw_multiply_async');
    expect(refused.ok, JSON.stringify(refused)).toBe(true);
    expect(refused.result.error).toMatch(/^RangeError: .*sandbox\.memoryMb/);
    expect(refused.result.bytes).toBe(0);
    // With budget left it would compile in the background, but isolated-vm never delivers V8's
    // background compile result back to the isolate, so async compilation hangs (with or without the
    // cap). The watchdog stops it like any other hang.
    await freshIsolate();
    const { r, ms } = await timed(k, 'hw_multiply_async');
    expectCoded(r, 'CAD_ERR_SANDBOX_TIMEOUT', W, 'hw_multiply_async');
    expect(ms).toBeLessThan(1500);
    expectCallAudited(k, W, 'hw_multiply_async', 'CAD_ERR_SANDBOX_TIMEOUT', 'timeout');
    await expectHostServes(k);
  });

  it('overwriting builtins does not unlock the originals or lift the cap', async () => {
    await freshIsolate();
    const r = await call(k, 'hw_tamper');
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.result.found).toEqual({ memoryCtorIsWrapper: true, moduleCtorIsWrapper: true, streamingGone: true });
    expect(r.result.error).not.toBeNull();
    expect(r.result.bytes).toBeLessThanOrEqual(LIMIT_BYTES);
    await expectHostServes(k);
  });

  it('an infinite loop inside wasm code → CAD_ERR_SANDBOX_TIMEOUT', async () => {
    const { r, ms } = await timed(k, 'hw_spin');
    expectCoded(r, 'CAD_ERR_SANDBOX_TIMEOUT', W, 'hw_spin');
    expect(ms).toBeLessThan(1500);
    expectCallAudited(k, W, 'hw_spin', 'CAD_ERR_SANDBOX_TIMEOUT', 'timeout');
    await expectHostServes(k);
  });

  it('Atomics.wait forever on shared wasm memory → CAD_ERR_SANDBOX_TIMEOUT', async () => {
    const { r, ms } = await timed(k, 'hw_atomics_wait');
    expectCoded(r, 'CAD_ERR_SANDBOX_TIMEOUT', W, 'hw_atomics_wait');
    expect(ms).toBeLessThan(1500);
    expectCallAudited(k, W, 'hw_atomics_wait', 'CAD_ERR_SANDBOX_TIMEOUT', 'timeout');
    await expectHostServes(k);
    expect((await call(k, 'hw_probe')).ok).toBe(true);
  });
});
