/**
 * Consent as the operator sees it: `caduceus plugins grants <id>` (every requested permission in plain
 * words, granted or not, and grants that lapsed), the install message of an upgrade that widens the
 * permissions (left disabled, naming what is new), and the consent prompt at a real terminal (a pty made
 * with util-linux `script`, skipped where that is missing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';

function helloVersion(version: string, permissions: string[]): string {
  const dir = tempDir(`cad-hello-${version}-`);
  cpSync(join(ROOT, 'examples/hello'), dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'caduceus.plugin.json'), 'utf8'));
  m.version = version;
  m.permissions = permissions;
  writeFileSync(join(dir, 'caduceus.plugin.json'), JSON.stringify(m, null, 2));
  return dir;
}

const hasScript = process.platform === 'linux' && existsSync('/usr/bin/script');

describe('plugins grants and consent on widening upgrades', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    expect(home.run(['plugins', 'install', 'examples/hello']).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  const grants = () => {
    const r = home.run(['plugins', 'grants', 'hello', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return r.json();
  };

  it('lists every requested permission in plain words and whether it is granted', () => {
    expect(grants()).toEqual({
      id: 'hello', version: '1.0.0', enabled: false,
      permissions: [{ permission: 'kv', meaning: 'keep its own key-value data in the Caduceus store', granted: false }],
      lapsed: [],
    });
    expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
    const text = home.run(['plugins', 'grants', 'hello']);
    expect(text.stdout).toContain('hello@1.0.0 enabled requests:');
    expect(text.stdout).toMatch(/granted\s+kv: keep its own key-value data/);
    expect(home.run(['plugins', 'grants', 'nope']).stderr).toContain('CAD_ERR_PLUGIN_NOT_FOUND');
  });

  it('an upgrade that widens the permissions says which are new and leaves the plugin disabled', () => {
    const r = home.run(['plugins', 'install', helloVersion('1.1.0', ['kv', 'env:HELLO_STYLE', 'net:api.example.com'])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the new version asks for permissions 1.0.0 did not:');
    expect(r.stdout).toContain('- read the environment variable HELLO_STYLE  (env:HELLO_STYLE)');
    expect(r.stdout).toContain('- make HTTP(S) requests to api.example.com  (net:api.example.com)');
    expect(r.stdout).toContain('so it was left disabled; `caduceus plugins enable hello` will ask you to consent to them');
    expect(grants()).toMatchObject({
      version: '1.1.0', enabled: false,
      permissions: [
        { permission: 'kv', granted: true },
        { permission: 'env:HELLO_STYLE', meaning: 'read the environment variable HELLO_STYLE', granted: false },
        { permission: 'net:api.example.com', granted: false },
      ],
    });
  });

  it.skipIf(!hasScript)('enabling at a terminal asks for the new permissions in plain words; "n" grants nothing', () => {
    const r = spawnSync('script', ['-qec', `'${BIN}' plugins enable hello`, '/dev/null'], { env: home.env, input: 'n\n', encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toContain("Plugin 'hello' asks to:");
    expect(r.stdout).toContain('- read the environment variable HELLO_STYLE  (env:HELLO_STYLE)');
    expect(r.stdout).toContain('- make HTTP(S) requests to api.example.com  (net:api.example.com)');
    expect(r.stdout).not.toContain('(kv)');
    expect(r.stdout).toContain('Grant these permissions and enable it? [y/N]');
    expect(r.stdout).toContain('CAD_ERR_PERMISSION_CONSENT_REQUIRED');
    expect(grants()).toMatchObject({ enabled: false, permissions: [{ granted: true }, { granted: false }, { granted: false }] });
  });

  it('with consent the new permissions are granted; a later narrowing upgrade reports the grants that lapsed', () => {
    expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
    expect(grants().permissions.every((p: { granted: boolean }) => p.granted)).toBe(true);
    // An upgrade that asks for nothing new stays enabled.
    const same = home.run(['plugins', 'install', helloVersion('1.2.0', ['kv', 'env:HELLO_STYLE', 'net:api.example.com']), '--json']);
    expect(same.json()).toMatchObject({ enabled: true, widenedPermissions: [] });
    const narrow = home.run(['plugins', 'install', helloVersion('1.3.0', ['kv'])]);
    expect(narrow.stdout).toContain('no longer requested, so revoked: env:HELLO_STYLE, net:api.example.com');
    const g = grants();
    expect(g).toMatchObject({ version: '1.3.0', enabled: true, permissions: [{ permission: 'kv', granted: true }] });
    expect(g.lapsed).toEqual([
      { permission: 'env:HELLO_STYLE', meaning: 'read the environment variable HELLO_STYLE', why: 'revoked when hello@1.3.0 was installed, which no longer requests it' },
      { permission: 'net:api.example.com', meaning: 'make HTTP(S) requests to api.example.com', why: 'revoked when hello@1.3.0 was installed, which no longer requests it' },
    ]);
    expect(home.run(['plugins', 'grants', 'hello']).stdout).toContain('lapsed:\n  env:HELLO_STYLE: revoked when hello@1.3.0');
  });
});
