/**
 * The dependency rules that keep the kernel small and ignorant of plugins: core/ never imports plugins/
 * and names no plugin; first-party plugins import only the SDK's public entry (or their own files), so
 * they use nothing a third-party plugin could not; the SDK entries that end up inside plugin bundles
 * import nothing from core/.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/cli.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

const pluginIds = readdirSync(join(ROOT, 'plugins')).filter((d) => statSync(join(ROOT, 'plugins', d)).isDirectory());

describe('layering', () => {
  it('core/ never imports plugins/', () => {
    const offenders = files(join(ROOT, 'core')).flatMap((f) => imports(f).filter((i) => /(^|\/)plugins\//.test(i)).map((i) => `${relative(ROOT, f)} → ${i}`));
    expect(offenders).toEqual([]);
  });

  it('no first-party plugin id appears in core/', () => {
    expect(pluginIds.length).toBeGreaterThan(0);
    const offenders: string[] = [];
    for (const f of files(join(ROOT, 'core'))) {
      const text = readFileSync(f, 'utf8');
      for (const id of pluginIds) if (new RegExp(`['"\`]${id}['"\`:]`).test(text)) offenders.push(`${relative(ROOT, f)} names '${id}'`);
    }
    expect(offenders).toEqual([]);
  });

  it('first-party plugins import only caduceus/sdk and their own files', () => {
    // Colocated unit tests (*.test.ts) run under vitest on the host and are never bundled.
    const offenders = pluginIds.flatMap((id) => files(join(ROOT, 'plugins', id, 'src')).filter((f) => !f.endsWith('.test.ts')).flatMap((f) =>
      imports(f).filter((i) => i !== 'caduceus/sdk' && !i.startsWith('./')).map((i) => `${relative(ROOT, f)} → ${i}`)));
    expect(offenders).toEqual([]);
  });

  it('the SDK entries bundled into plugins import nothing from core/', () => {
    for (const entry of ['sdk/index.ts', 'sdk/runtime.ts', 'sdk/types.ts', 'sdk/constants.ts', 'sdk/sse.ts', 'sdk/provider-kit.ts', 'sdk/chat-types.ts']) {
      expect(imports(join(ROOT, entry)).filter((i) => i.includes('core/')), entry).toEqual([]);
    }
  });
});
