/**
 * The bundled `files` plugin through the built CLI, in a temp workspace (the CLI's cwd): read_file,
 * write_file, patch and search_files with good and bad input, containment to the workspace, .gitignore,
 * atomic writes, and `caduceus files undo` / `history` rolling writes back. On by default: nothing is
 * enabled or granted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHome, tempDir, type Home } from '../helpers/cli.js';

let home: Home;
let ws: string;
let outside: string;

type Envelope = { ok: boolean; result?: any; error?: { code: string; message: string; details?: any } };
const call = (tool: string, args: unknown, cwd = ws): Envelope => {
  const r = home.run(['tools', 'call', tool, JSON.stringify(args), '--json'], { cwd });
  expect([0, 1], r.stderr).toContain(r.code);
  return r.json<Envelope>();
};
const ok = (tool: string, args: unknown, cwd = ws) => {
  const r = call(tool, args, cwd);
  expect(r.ok, JSON.stringify(r.error)).toBe(true);
  return r.result;
};
/** The code the plugin (or the host syscall under it) put on a failed call. */
const failure = (r: Envelope) => {
  expect(r.ok).toBe(false);
  return { code: r.error!.details?.pluginError?.code ?? r.error!.code, message: r.error!.message };
};
const file = (p: string) => readFileSync(join(ws, p), 'utf8');

beforeAll(() => {
  home = makeHome();
  ws = tempDir('cad-files-ws-');
  outside = tempDir('cad-files-out-');
  writeFileSync(join(outside, 'secret.txt'), 'outside');
});
afterAll(() => home.cleanup());

describe('the files plugin is bundled, enabled and fully described', () => {
  it('lists its tools as available with complete descriptors, before any call', () => {
    const tools = home.run(['tools', 'list', '--json'], { cwd: ws }).json<any[]>();
    const byName = Object.fromEntries(tools.filter((t) => t.plugin === 'files').map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['patch', 'read_file', 'search_files', 'write_file']);
    for (const t of Object.values<any>(byName)) {
      expect(t).toMatchObject({ status: 'available', toolset: 'files', visibility: 'prompt' });
      expect(t.timeoutMs).toBeGreaterThan(0);
      expect(t.maxResultBytes).toBeGreaterThan(0);
      expect(t.resultSchema).toBeDefined();
    }
    expect(byName.read_file).toMatchObject({ mutating: false, idempotent: true, availability: { permissions: ['fs.read:$WORKSPACE'] } });
    expect(byName.search_files).toMatchObject({ mutating: false, idempotent: true });
    expect(byName.write_file).toMatchObject({ mutating: true, idempotent: true, availability: { permissions: ['fs.write:$WORKSPACE'] } });
    expect(byName.patch).toMatchObject({ mutating: true, idempotent: false });
    const grants = home.run(['plugins', 'grants', 'files', '--json']).json();
    expect(JSON.stringify(grants)).toContain('fs.write:$WORKSPACE');
  });
});

describe('read_file', () => {
  beforeAll(() => {
    writeFileSync(join(ws, 'lines.txt'), Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    writeFileSync(join(ws, 'crlf.txt'), 'a\r\nb\r\n');
    writeFileSync(join(ws, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe]));
    writeFileSync(join(ws, 'long.txt'), `${'x'.repeat(5000)}\n`);
  });

  it('numbers lines and reads a window, saying how to read on', () => {
    const r = ok('read_file', { path: 'lines.txt', offset: 10, limit: 3 });
    expect(r.content).toBe('    10\tline 10\n    11\tline 11\n    12\tline 12');
    expect(r).toMatchObject({ startLine: 10, endLine: 12, totalLines: 30, truncated: true });
    expect(r.note).toContain('offset 13');
    const all = ok('read_file', { path: 'lines.txt' });
    expect(all).toMatchObject({ startLine: 1, endLine: 30, truncated: false });
    expect(all.note).toBeUndefined();
    expect(ok('read_file', { path: 'crlf.txt' }).content).toBe('     1\ta\n     2\tb');
  });

  it('cuts very long lines and says so', () => {
    const r = ok('read_file', { path: 'long.txt' });
    expect(r.content.length).toBeLessThan(2200);
    expect(r.content).toContain('[line cut: 5000 characters]');
    expect(r.note).toContain('longer than 2000');
  });

  it('reports a binary file instead of dumping it', () => {
    const f = failure(call('read_file', { path: 'image.png' }));
    expect(f.code).toBe('files:binary');
    expect(f.message).toContain('binary file (18 bytes)');
    expect(f.message).not.toContain('PNG');
  });

  it('names missing files, folders and offsets past the end', () => {
    expect(failure(call('read_file', { path: 'nope.txt' })).code).toBe('files:not_found');
    mkdirSync(join(ws, 'dir'), { recursive: true });
    expect(failure(call('read_file', { path: 'dir' })).code).toBe('files:not_a_file');
    const past = failure(call('read_file', { path: 'lines.txt', offset: 31 }));
    expect(past.code).toBe('files:bad_range');
    expect(past.message).toContain('30 lines');
  });

  it('rejects bad arguments before the plugin runs', () => {
    const r = call('read_file', { path: 'lines.txt', offset: 0 });
    expect(r.error?.code).toBe('CAD_ERR_TOOL_ARGS_INVALID');
  });
});

describe('confined to the workspace', () => {
  beforeAll(() => {
    symlinkSync(outside, join(ws, 'escape'));
  });

  it('refuses paths outside the workspace, by .., absolute path or symlink, for reads and writes', () => {
    const rel = `../${outside.split('/').pop()}/secret.txt`;
    for (const path of [rel, join(outside, 'secret.txt'), '/etc/passwd', 'escape/secret.txt']) {
      expect(failure(call('read_file', { path })).code, path).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    }
    for (const path of [rel, 'escape/new.txt']) {
      expect(failure(call('write_file', { path, content: 'pwned' })).code, path).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('outside');
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(failure(call('search_files', { pattern: 'outside', path: '../' })).code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
  });

  it('never writes credential files, and keeps no checkpoint of the refused write', () => {
    const f = failure(call('write_file', { path: '.env', content: 'TOKEN=x' }));
    expect(f.code).toBe('CAD_ERR_FS_PROTECTED');
    expect(existsSync(join(ws, '.env'))).toBe(false);
    const history = home.run(['files', 'history', '--json'], { cwd: ws });
    expect(history.json<any[]>().some((c) => c.asGiven === '.env')).toBe(false);
  });
});

describe('write_file and patch', () => {
  it('creates files and folders, atomically, keeping an existing file\'s mode', () => {
    expect(ok('write_file', { path: 'src/app.js', content: 'const a = 1;\nconst b = 2;\n' })).toMatchObject({ created: true, unchanged: false, bytes: 26 });
    expect(file('src/app.js')).toBe('const a = 1;\nconst b = 2;\n');
    writeFileSync(join(ws, 'run.sh'), 'echo one\n');
    chmodSync(join(ws, 'run.sh'), 0o755);
    expect(ok('write_file', { path: 'run.sh', content: 'echo two\n' })).toMatchObject({ created: false });
    expect(statSync(join(ws, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(readdirSync(ws).concat(readdirSync(join(ws, 'src'))).filter((f) => f.includes('.caduceus-'))).toEqual([]);
  });

  it('records nothing for a write that changes nothing', () => {
    const r = ok('write_file', { path: 'run.sh', content: 'echo two\n' });
    expect(r).toMatchObject({ unchanged: true, checkpoint: null });
  });

  it('patches by exact string, refusing 0 or several matches and leaving the file alone', () => {
    writeFileSync(join(ws, 'dup.txt'), 'x = 1\ny = 2\nx = 1\n');
    const amb = failure(call('patch', { path: 'dup.txt', old_string: 'x = 1', new_string: 'x = 3' }));
    expect(amb.code).toBe('files:ambiguous');
    expect(amb.message).toContain('2 times in dup.txt (at lines 1, 3)');
    expect(failure(call('patch', { path: 'dup.txt', old_string: 'z = 9', new_string: 'z = 0' })).code).toBe('files:no_match');
    expect(file('dup.txt')).toBe('x = 1\ny = 2\nx = 1\n');
    expect(ok('patch', { path: 'dup.txt', old_string: 'x = 1', new_string: 'x = 3', replace_all: true })).toMatchObject({ mode: 'replace', replacements: 2 });
    expect(file('dup.txt')).toBe('x = 3\ny = 2\nx = 3\n');
    expect(ok('patch', { path: 'src/app.js', old_string: 'const b = 2;', new_string: 'const b = 20;' })).toMatchObject({ replacements: 1, linesAdded: 1, linesRemoved: 1 });
    expect(file('src/app.js')).toBe('const a = 1;\nconst b = 20;\n');
  });

  it('patches by unified diff, strictly', () => {
    const diff = '--- a/src/app.js\n+++ b/src/app.js\n@@ -1,2 +1,3 @@\n const a = 1;\n+const between = 1.5;\n const b = 20;\n';
    expect(ok('patch', { path: 'src/app.js', diff })).toMatchObject({ mode: 'diff', replacements: 1, linesAdded: 1, linesRemoved: 0 });
    expect(file('src/app.js')).toBe('const a = 1;\nconst between = 1.5;\nconst b = 20;\n');
    const stale = failure(call('patch', { path: 'src/app.js', diff: '@@ -1,2 +1,2 @@\n const a = 1;\n-const b = 2;\n+const b = 3;\n' }));
    expect(stale.code).toBe('files:hunk_failed');
    expect(file('src/app.js')).toBe('const a = 1;\nconst between = 1.5;\nconst b = 20;\n');
  });

  it('refuses unclear patch requests and binary files', () => {
    expect(failure(call('patch', { path: 'src/app.js', old_string: 'a', new_string: 'b', diff: '@@ -1 +1 @@\n-a\n+b\n' })).code).toBe('files:bad_patch');
    expect(failure(call('patch', { path: 'src/app.js', old_string: 'a' })).code).toBe('files:bad_patch');
    expect(failure(call('patch', { path: 'missing.js', old_string: 'a', new_string: 'b' })).code).toBe('files:not_found');
    expect(failure(call('write_file', { path: 'image.png', content: 'text' })).code).toBe('files:binary');
  });
});

describe('caduceus files undo', () => {
  let w2: string;
  beforeAll(() => {
    w2 = tempDir('cad-files-undo-');
  });
  const undo = (args: string[] = [], cwd = w2) => home.run(['files', 'undo', ...args], { cwd });

  it('rolls back a patch (restoring the old text) and a created file (removing it), newest first', () => {
    writeFileSync(join(w2, 'keep.txt'), 'original\n');
    ok('write_file', { path: 'made/new.txt', content: 'fresh\n' }, w2);
    ok('patch', { path: 'keep.txt', old_string: 'original', new_string: 'patched' }, w2);
    expect(readFileSync(join(w2, 'keep.txt'), 'utf8')).toBe('patched\n');
    const history = home.run(['files', 'history', '--json'], { cwd: w2 }).json<any[]>();
    expect(history.map((c) => [c.asGiven, c.tool, c.existed])).toEqual([['keep.txt', 'patch', true], ['made/new.txt', 'write_file', false]]);
    const one = undo();
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('restored keep.txt');
    expect(readFileSync(join(w2, 'keep.txt'), 'utf8')).toBe('original\n');
    expect(existsSync(join(w2, 'made/new.txt'))).toBe(true);
    const two = undo(['--steps', '1', '--json']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.json()).toMatchObject({ undone: [{ path: 'made/new.txt', action: 'removed' }], remaining: 0 });
    expect(existsSync(join(w2, 'made/new.txt'))).toBe(false);
    expect(undo().stdout).toContain('Nothing to undo');
  });

  it('undoes several writes to one file in one go, back to the first state', () => {
    writeFileSync(join(w2, 'multi.txt'), 'v0\n');
    ok('write_file', { path: 'multi.txt', content: 'v1\n' }, w2);
    ok('patch', { path: 'multi.txt', old_string: 'v1', new_string: 'v2' }, w2);
    ok('write_file', { path: 'multi.txt', content: 'v3\n' }, w2);
    const r = undo(['--steps=3']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(w2, 'multi.txt'), 'utf8')).toBe('v0\n');
  });

  it('stops at a file changed since the write, unless --force', () => {
    ok('write_file', { path: 'edited.txt', content: 'by the model\n' }, w2);
    writeFileSync(join(w2, 'edited.txt'), 'by a human afterwards\n');
    const r = undo();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('changed after write_file wrote it');
    expect(readFileSync(join(w2, 'edited.txt'), 'utf8')).toBe('by a human afterwards\n');
    const forced = undo(['--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(w2, 'edited.txt'))).toBe(false);
  });

  it('only touches the workspace it runs in', () => {
    ok('write_file', { path: 'other.txt', content: 'in ws\n' });
    const r = undo();
    expect(r.stdout).toContain('Nothing to undo');
    expect(file('other.txt')).toBe('in ws\n');
    expect(home.run(['files', 'history', '--all', '--json'], { cwd: w2 }).json<any[]>().some((c) => c.asGiven === 'other.txt')).toBe(true);
  });

  it('explains its usage', () => {
    const r = home.run(['files', 'undo', '--steps', 'zero'], { cwd: w2 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--steps needs a whole number');
  });
});

describe('search_files', () => {
  let s: string;
  beforeAll(() => {
    s = tempDir('cad-files-search-');
    const put = (p: string, text: string) => {
      mkdirSync(join(s, p, '..'), { recursive: true });
      writeFileSync(join(s, p), text);
    };
    put('.gitignore', 'node_modules/\n*.log\ndist\n');
    put('src/main.ts', 'import { helper } from "./util";\nexport const TODO_MAIN = helper();\n');
    put('src/util.ts', 'export function helper() { return 1; } // TODO tidy\n');
    put('src/gen/.gitignore', '*.gen.ts\n');
    put('src/gen/api.gen.ts', 'TODO generated\n');
    put('src/gen/keep.ts', 'TODO kept\n');
    put('node_modules/lib/index.js', 'TODO in a dependency\n');
    put('dist/main.js', 'TODO built\n');
    put('debug.log', 'TODO logged\n');
    put('.git/HEAD', 'TODO git internals\n');
    put('README.md', 'Nothing to do here.\n');
    writeFileSync(join(s, 'blob.bin'), Buffer.from([0, 1, 2, 84, 79, 68, 79]));
  });

  it('finds content by regex, skipping what .gitignore (nested too) ignores and .git', () => {
    const r = ok('search_files', { pattern: 'TODO' }, s);
    expect(r.matches.map((m: any) => `${m.path}:${m.line}`).sort()).toEqual(['src/gen/keep.ts:1', 'src/main.ts:2', 'src/util.ts:1']);
    expect(r.matches.find((m: any) => m.path === 'src/util.ts').text).toContain('// TODO tidy');
    expect(r.truncated).toBe(false);
  });

  it('applies the outer .gitignore when searching a subfolder', () => {
    const r = ok('search_files', { pattern: 'TODO', path: 'src/gen' }, s);
    expect(r.matches.map((m: any) => m.path)).toEqual(['src/gen/keep.ts']);
  });

  it('includes ignored files on request, never .git', () => {
    const r = ok('search_files', { pattern: 'TODO', includeIgnored: true }, s);
    const paths = r.matches.map((m: any) => m.path);
    expect(paths).toEqual(expect.arrayContaining(['node_modules/lib/index.js', 'dist/main.js', 'debug.log', 'src/gen/api.gen.ts']));
    expect(paths.some((p: string) => p.startsWith('.git/'))).toBe(false);
  });

  it('lists files by glob, by name at any depth or by path', () => {
    expect(ok('search_files', { glob: '*.ts' }, s).files).toEqual(['src/gen/keep.ts', 'src/main.ts', 'src/util.ts']);
    expect(ok('search_files', { glob: 'src/*.ts' }, s).files).toEqual(['src/main.ts', 'src/util.ts']);
    expect(ok('search_files', { glob: '*.ts', pattern: 'helper\\(' }, s).matches.map((m: any) => m.path)).toEqual(['src/main.ts', 'src/util.ts']);
  });

  it('caps results and says so', () => {
    const r = ok('search_files', { pattern: 'TODO', maxResults: 2, includeIgnored: true }, s);
    expect(r.matches).toHaveLength(2);
    expect(r.truncated).toBe(true);
    expect(r.note).toContain('maxResults (2)');
  });

  it('skips binary files, and refuses a bad regex or an empty query', () => {
    const r = ok('search_files', { pattern: 'TODO', glob: '*.bin' }, s);
    expect(r.matches).toEqual([]);
    expect(r.note).toContain('binary');
    expect(failure(call('search_files', { pattern: '(' }, s)).code).toBe('files:bad_search');
    expect(failure(call('search_files', {}, s)).code).toBe('files:bad_search');
  });
});

describe('availability follows the grants', () => {
  it('a revoked fs.write grant makes the writing tools unavailable, not the reading ones', () => {
    expect(home.run(['plugins', 'revoke', 'files', 'fs.write:$WORKSPACE']).code).toBe(0);
    const tools = home.run(['tools', 'list', '--json'], { cwd: ws }).json<any[]>();
    const status = (n: string) => tools.find((t) => t.name === n)!.status;
    expect([status('write_file'), status('patch'), status('read_file'), status('search_files')]).toEqual(['unavailable', 'unavailable', 'available', 'available']);
    expect(call('write_file', { path: 'x.txt', content: 'x' }).error?.code).toBe('CAD_ERR_TOOL_UNAVAILABLE');
    expect(home.run(['plugins', 'grant', 'files', 'fs.write:$WORKSPACE']).code).toBe(0);
  });
});
