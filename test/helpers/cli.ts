/**
 * Test helpers that drive the real, built `caduceus` command (bin/caduceus.js → dist/) against a fresh
 * Caduceus home per test, and build fixture plugins with the real SDK build.
 */
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin/caduceus.js');
export const FIXTURES = join(ROOT, 'test/fixtures/plugins');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws if it is not). */
  json: <T = any>() => T;
}

export interface Home {
  dir: string;
  env: Record<string, string>;
  run: (args: string[], opts?: { input?: string; env?: Record<string, string>; cwd?: string }) => CliResult;
  runAsync: (args: string[], opts?: { env?: Record<string, string>; cwd?: string }) => Promise<CliResult>;
  cleanup: () => void;
}

/** A fresh CADUCEUS_HOME; `run` invokes the built CLI synchronously with it. */
export function makeHome(prefix = 'cad-test-'): Home {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env: Record<string, string> = { ...process.env as Record<string, string>, CADUCEUS_HOME: dir, NO_COLOR: '1' };
  delete env.CADUCEUS_LOG;
  const result = (code: number | null, stdout: string, stderr: string): CliResult => ({
    code: code ?? -1, stdout, stderr,
    json: () => JSON.parse(stdout),
  });
  return {
    dir,
    env,
    run(args, opts = {}) {
      const r = spawnSync(BIN, args, { env: { ...env, ...opts.env }, cwd: opts.cwd ?? ROOT, encoding: 'utf8', input: opts.input ?? '', timeout: 120_000 });
      return result(r.status, r.stdout, r.stderr);
    },
    runAsync(args, opts = {}) {
      return new Promise((res) => {
        const child = spawn(BIN, args, { env: { ...env, ...opts.env }, cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => res(result(code, out, err)));
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Copies a fixture plugin folder to a temp dir (so tests can modify it) and returns the copy's path. */
export function copyFixture(name: string): string {
  const dest = mkdtempSync(join(tmpdir(), `cad-fixture-${name}-`));
  cpSync(join(FIXTURES, name), dest, { recursive: true });
  return dest;
}

/** Builds a plugin folder with the real SDK build (dist/sdk/build.js). */
export async function buildFixture(dir: string): Promise<void> {
  const { buildPlugin } = await import(join(ROOT, 'dist/sdk/build.js'));
  await buildPlugin(dir);
}

export function tempDir(prefix = 'cad-tmp-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(d, { recursive: true });
  return d;
}
