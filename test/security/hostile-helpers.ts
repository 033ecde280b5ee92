/**
 * Shared setup for the hostile-plugin suites: a kernel on a fresh home with examples/hello enabled as the
 * bystander, fixture plugins built with the real SDK build from a temp copy, and the three checks every
 * hostile case ends with: the failure came back as a coded error naming the plugin, an audit row was
 * written, and the host (and another plugin in the same kernel) still serves.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT, buildFixture, copyFixture, tempDir } from '../helpers/cli.js';

export const api = await import(join(ROOT, 'dist/core/index.js'));

/** Lenient strikes, so a suite can make one plugin fail many times without striking it out. */
export const MANY_STRIKES = { maxStrikes: 1000, windowMs: 60_000, backoffMs: 1, maxBackoffMs: 5 };

/** Temp folders (homes, fixture copies) to remove when the suite's kernel closes. */
const temps = new Map<any, string[]>();

export async function openKernel(opts: Record<string, unknown> = {}): Promise<any> {
  const home = tempDir('cad-sec-home-');
  const k = new api.Kernel({ home, bundledDir: join(ROOT, 'plugins'), ...opts });
  temps.set(k, [home]);
  await api.installPlugin(k, join(ROOT, 'examples/hello'));
  await api.enablePlugin(k, 'hello', { yes: true });
  return k;
}

/**
 * Copies a fixture, lets the caller adjust its manifest (e.g. to request a port known only at run time),
 * builds it with the SDK, installs it and enables it with consent to what it requests.
 */
export async function addFixture(k: any, name: string, editManifest?: (m: any) => void): Promise<string> {
  const dir = copyFixture(name);
  temps.get(k)?.push(dir);
  if (editManifest) {
    const file = join(dir, 'caduceus.plugin.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    editManifest(m);
    writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  }
  await buildFixture(dir);
  await api.installPlugin(k, dir);
  await api.enablePlugin(k, name, { yes: true });
  return dir;
}

/** Closes the kernel (stopping every isolate) and removes its home and fixture copies. */
export async function closeKernel(k: any): Promise<void> {
  if (!k) return;
  await k.close();
  for (const dir of temps.get(k) ?? []) rmSync(dir, { recursive: true, force: true });
  temps.delete(k);
}

export function call(k: any, tool: string, args: object = {}): Promise<any> {
  return k.callTool(tool, args, { caller: 'operator' });
}

/** Times one call. */
export async function timed(k: any, tool: string, args: object = {}): Promise<{ r: any; ms: number }> {
  const t0 = performance.now();
  const r = await call(k, tool, args);
  return { r, ms: performance.now() - t0 };
}

/** The call failed with a structured error carrying this code and naming the plugin. */
export function expectCoded(r: any, code: string, plugin: string, tool?: string): void {
  expect(r.ok, JSON.stringify(r).slice(0, 500)).toBe(false);
  expect(r.error).toMatchObject({ code, plugin, message: expect.any(String) });
  if (tool) expect(r.error.tool).toBe(tool);
}

/** Another plugin's tool, in the same kernel, still answers; and nothing leaked into the host realm. */
export async function expectHostServes(k: any): Promise<void> {
  const r = await call(k, 'hello_greet', { name: 'Ada' });
  expect(r, JSON.stringify(r).slice(0, 500)).toMatchObject({ ok: true, plugin: 'hello', result: { greeting: 'Hello, Ada!' } });
  expect(({} as any).polluted).toBeUndefined();
  expect(([] as any).polluted).toBeUndefined();
}

/** Audit rows of one plugin (newest last), optionally of one kind. */
export function auditRows(k: any, plugin: string, kind?: string): any[] {
  const filter = kind ? { plugin, kind } : { plugin };
  // Kernel#tailAudit flushes audit events still batched in this process; older kernels wrote through.
  return typeof k.tailAudit === 'function' ? k.tailAudit(2000, filter) : k.store.tailAudit(2000, filter);
}

/** The newest tool.call audit row for a tool. */
export function lastCallRow(k: any, plugin: string, tool: string): any {
  return auditRows(k, plugin, 'tool.call').filter((r) => r.tool === tool).at(-1);
}

/** A tool.call audit row exists for the failed call, with the code the caller saw. */
export function expectCallAudited(k: any, plugin: string, tool: string, code: string, outcome: string): void {
  const row = lastCallRow(k, plugin, tool);
  expect(row, `no tool.call audit row for ${tool}`).toBeDefined();
  expect(row).toMatchObject({ kind: 'tool.call', plugin, tool, code, outcome, caller: 'operator' });
}
