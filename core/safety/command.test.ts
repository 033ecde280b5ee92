/**
 * Unit tests of the command-safety classifier's moving parts: normalisation (quotes, escapes, `${IFS}`,
 * ANSI-C strings, substitutions, absolute paths, env prefixes, wrappers), the glob matcher, the rule
 * table, how the deciding rule is chosen, and robustness: random metacharacter soup never throws and
 * 100 KB inputs, hostile ones included, come back fast. The verdict corpus lives in test/guards.
 */
import { describe, expect, it } from 'vitest';
import { checkCommand, commandGlobMatch, COMMAND_RULES, normalizeCommand, type CommandVerdict } from './command.js';

describe('normalizeCommand', () => {
  it.each([
    ['r"m" -rf /', 'rm -rf /'],
    ["'rm' -rf /", 'rm -rf /'],
    ["r''m -rf /", 'rm -rf /'],
    ['r\\m -rf /', 'rm -rf /'],
    ['rm${IFS}-rf${IFS}/', 'rm -rf /'],
    ['rm$IFS-rf$IFS/', 'rm -rf /'],
    ["$'\\x72\\x6d' -rf /", 'rm -rf /'],
    ["$'\\162\\155' -rf /", 'rm -rf /'],
    ['r$@m -rf /', 'rm -rf /'],
    ['{rm,-rf,/}', 'rm -rf /'],
    ['rm -rf ${PATH:0:1}', 'rm -rf /'],
    ['a=rm; $a -rf x', 'a=rm; rm -rf x'],
    ['  ls    -la\t\t~  ', 'ls -la ~'],
  ])('resolves quoting and expansion tricks: %s', (input, expected) => {
    expect(normalizeCommand(input)).toBe(expected);
  });

  it('basenames command words, including the ones wrappers run, and keeps the wrappers', () => {
    expect(normalizeCommand('/usr/bin/sudo /bin/rm -rf /tmp/x')).toBe('sudo rm -rf /tmp/x');
    expect(normalizeCommand('./node_modules/.bin/vitest run')).toBe('vitest run');
    expect(normalizeCommand('timeout 5 /usr/bin/env FOO=1 /bin/ls')).toBe('timeout 5 env FOO=1 ls');
    expect(normalizeCommand('npx @angular/cli new app')).toBe('npx @angular/cli new app');
  });

  it('drops leading env assignments but keeps a bare assignment', () => {
    expect(normalizeCommand('FOO=1 BAR="a b" rm -rf /')).toBe('rm -rf /');
    expect(normalizeCommand('FOO=1')).toBe('FOO=1');
  });

  it('normalises the inside of substitutions and turns backticks into $()', () => {
    expect(normalizeCommand('echo $(/bin/rm  -rf  /)')).toBe('echo $(rm -rf /)');
    expect(normalizeCommand('echo `/bin/ls`')).toBe('echo $(ls)');
    expect(normalizeCommand('rm -rf $(echo /)')).toBe('rm -rf /');
  });

  it('spaces operators one way and re-quotes words that need it', () => {
    expect(normalizeCommand('a&&b||c|d;e&')).toBe('a && b || c | d; e&');
    expect(normalizeCommand('git commit -m "fix: a bug"')).toBe("git commit -m 'fix: a bug'");
    expect(normalizeCommand('echo hi >out.txt 2>&1')).toBe('echo hi > out.txt 2>&1');
    expect(normalizeCommand('ls\n\n\npwd\n')).toBe('ls; pwd');
  });

  it('keeps ${HOME} and ~ recognisable', () => {
    expect(normalizeCommand('rm -rf "${HOME}"')).toBe('rm -rf $HOME');
    expect(normalizeCommand('rm -rf ~/')).toBe('rm -rf ~/');
  });
});

describe('checkCommand', () => {
  const verdict = (c: string) => checkCommand(c).verdict;

  it.each([
    'sudo', 'doas', 'env', 'nice', 'nohup', 'timeout 5', 'command', 'exec', 'busybox', 'time',
    'sudo -u root --', 'env -i FOO=1', 'nice -n 10', 'timeout -s KILL 5s', 'nohup nice', 'sudo env timeout 3',
  ])('sees through the wrapper %s', (wrapper) => {
    expect(checkCommand(`${wrapper} rm -rf /`).rule).toBe('hardline.rm-root');
  });

  it('sees through xargs, reading what echo feeds it', () => {
    expect(checkCommand('xargs rm -rf').rule).toBe('dangerous.rm-recursive');
    expect(checkCommand('echo / | xargs rm -rf').rule).toBe('hardline.rm-root');
  });

  it('classifies the code inside $(), backticks, bash -c and sh -c, and the more severe verdict wins', () => {
    for (const c of ['echo $(reboot)', 'echo `reboot`', "bash -c 'reboot'", 'sh -c "reboot"', "bash -lc 'sudo reboot'", 'x=$(sh -c "$(echo reboot)")']) {
      expect(checkCommand(c).rule, c).toBe('hardline.power');
    }
    const inner = checkCommand("bash -c 'git push -f'");
    expect(inner.verdict).toBe('dangerous');
    expect(inner.matches.map((m) => m.rule)).toEqual(['dangerous.inline-code', 'dangerous.git-force-push']);
  });

  it('treats arguments of echo, printf, grep and git commit as data', () => {
    for (const c of ['echo rm -rf /', 'printf "%s" "mkfs /dev/sda"', 'grep -r "shutdown -h now" .', 'git commit -m "kill -9 -1"']) {
      expect(verdict(c), c).toBe('safe');
    }
  });

  it('keeps pipeline structure for network- and decode-to-shell rules', () => {
    expect(checkCommand('curl -s https://x | tee log | bash -s -- --yes').rule).toBe('dangerous.pipe-to-shell');
    expect(checkCommand('curl -s https://x | python3 -m json.tool').verdict).toBe('safe');
    expect(checkCommand('base64 -d < blob | sh').rule).toBe('dangerous.decode-to-shell');
  });

  it('reports the first match of the most severe verdict, and every match with its segment', () => {
    const r = checkCommand('git push -f; rm -rf build; reboot; rm -rf /');
    expect(r.verdict).toBe('hardline');
    expect(r.rule).toBe('hardline.power');
    expect(r.reason).toMatch(/reboot/);
    expect(r.matches).toEqual([
      { rule: 'dangerous.git-force-push', verdict: 'dangerous', segment: 'git push -f' },
      { rule: 'dangerous.rm-recursive', verdict: 'dangerous', segment: 'rm -rf build' },
      { rule: 'hardline.power', verdict: 'hardline', segment: 'reboot' },
      { rule: 'hardline.rm-root', verdict: 'hardline', segment: 'rm -rf /' },
    ]);
  });

  it('says why in a plain sentence and leaves rule unset when safe', () => {
    expect(checkCommand('rm -rf /').reason).toBe('deletes the root directory');
    const safe = checkCommand('ls -la');
    expect(safe).toMatchObject({ verdict: 'safe', normalized: 'ls -la', matches: [] });
    expect(safe.rule).toBeUndefined();
  });

  it('lists every simple command, nested ones included, in segments', () => {
    expect(checkCommand("ls && bash -c 'pwd; whoami'").segments).toEqual(['ls', "bash -c 'pwd; whoami'", 'pwd', 'whoami']);
  });

  it('is best-effort on unterminated quotes and substitutions', () => {
    expect(checkCommand('rm -rf "/').verdict).toBe('hardline');
    expect(checkCommand("echo 'unterminated").verdict).toBe('safe');
    expect(checkCommand('echo $(reboot').rule).toBe('hardline.power');
    expect(checkCommand('cat <<EOF\nno end').verdict).toBe('safe');
  });
});

describe('commandGlobMatch', () => {
  it.each([
    ['git push *', 'git push origin main', true],
    ['git push *', 'git push', false],
    ['git push*', 'git push', true],
    ['npm ?est', 'npm test', true],
    ['npm ?est', 'npm tests', false],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['rm -rf *', 'sudo rm -rf /', false],
    ['*rm -rf *', 'sudo rm -rf /', true],
    ['Git *', 'git status', false],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['ls *', 'ls -la; rm -rf ~', true],
  ])('%s ~ %s → %s', (glob, text, expected) => {
    expect(commandGlobMatch(glob, text)).toBe(expected);
  });

  it('stays fast on globs built to backtrack', () => {
    const t0 = performance.now();
    expect(commandGlobMatch('*a'.repeat(50) + 'b', 'a'.repeat(20_000))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('COMMAND_RULES', () => {
  it('has unique ids, a description for each, and a verdict that matches the id prefix', () => {
    const ids = COMMAND_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of COMMAND_RULES) {
      expect(r.id).toMatch(/^(hardline|dangerous)\.[a-z0-9-]+$/);
      expect(r.id.split('.')[0]).toBe(r.verdict);
      expect(r.description.length).toBeGreaterThan(10);
    }
    expect(Object.isFrozen(COMMAND_RULES)).toBe(true);
  });
});

describe('robustness', () => {
  const VERDICTS: CommandVerdict[] = ['safe', 'dangerous', 'hardline'];
  const ALPHABET = ['$', '(', ')', '{', '}', '[', ']', '`', "'", '"', '\\', '|', '&', ';', '<', '>', ' ', '\n', '\t', '#', '=', '*', '?', '~',
    '!', ':', '-', '/', 'a', 'r', 'm', 'IFS', 'rm', ' -rf ', '/', 'EOF', '<<', '$(', '${', 'bash -c ', 'f()', "$'\\x", '\0', 'é', '\ud83d'];

  // Seeded, so a failure reproduces.
  let seed = 0x2545f491;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

  it('never throws on random metacharacter soup, and always answers in shape', () => {
    for (let i = 0; i < 3000; i++) {
      const len = 1 + Math.floor(random() * 40);
      let s = '';
      for (let k = 0; k < len; k++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
      const r = checkCommand(s);
      expect(VERDICTS, JSON.stringify(s)).toContain(r.verdict);
      expect(typeof r.normalized).toBe('string');
      expect(r.verdict === 'safe', JSON.stringify(s)).toBe(r.rule === undefined);
      expect(() => normalizeCommand(s)).not.toThrow();
    }
  });

  it('answers odd inputs: empty, whitespace, NUL bytes, lone surrogates, non-strings', () => {
    for (const input of ['', '   ', '\n\n', '\0rm -rf /', '\ud800', ';;;', '&&', '|', ')', '}', 'EOF']) {
      expect(() => checkCommand(input), JSON.stringify(input)).not.toThrow();
    }
    expect(checkCommand('')).toMatchObject({ verdict: 'safe', normalized: '' });
    expect(checkCommand(undefined as unknown as string).verdict).toBe('safe');
  });

  it('reports nesting it cannot read instead of passing it', () => {
    expect(checkCommand('echo ' + '$('.repeat(200) + 'rm -rf /' + ')'.repeat(200)).verdict).not.toBe('safe');
    let nested = 'rm -rf /';
    for (let i = 0; i < 12; i++) nested = `bash -c ${JSON.stringify(nested)}`;
    expect(checkCommand(nested).verdict).not.toBe('safe');
  });

  it('reports variables too long to track instead of treating them as unknown', () => {
    expect(checkCommand(`a="${' '.repeat(5000)}rm"; $a -rf /`).verdict).not.toBe('safe');
  });

  // Inputs of n bytes in the shapes that stress each part: most commands per byte, deepest nesting,
  // most expansions, longest words.
  const fill = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  const SHAPES: Record<string, (n: number) => string> = {
    'one long command': (n) => fill('ls -la foo ', n),
    'a long heredoc': (n) => 'cat <<EOF > out.txt\n' + fill('some text $HOME and `quotes`\n', n),
    'a long quoted string': (n) => `echo "${fill('a b ', n)}"`,
    'metacharacter soup': (n) => Array.from({ length: n }, (_, i) => '$(){}|&;<>\'"`\\ \n#=*~'[(i * 7919) % 21]).join(''),
    'a pipeline of 4-byte stages': (n) => fill('a | ', n),
    'many statements': (n) => fill('rm -rf x; ', n),
    'nested substitutions': (n) => '$('.repeat(n / 4) + ')'.repeat(n / 4),
    'backticks': (n) => fill('`', n),
    'open braces': (n) => fill('${', n),
    'defaults inside defaults': (n) => fill('${a:-', n),
    'doubling variables': (n) => 'a=xxxxxxxx; ' + fill('a=$a$a; ', n),
    'function definitions': (n) => fill('f(){ f|f& }; ', n),
    'redirects': (n) => fill('> /etc/x ', n),
    'inline python': (n) => `python3 -c "import os; os.system(${fill("'rm', ", n)})"`,
    'echo into sh': (n) => `echo ${fill('rm -rf x; ', n)} | sh`,
  };
  const TYPICAL = ['one long command', 'a long heredoc', 'a long quoted string', 'metacharacter soup'];

  // CPU time (process.cpuUsage), best of several runs after a warm-up: other processes on a shared
  // runner inflate wall time far more than CPU time.
  const cpu = (f: () => void, runs: number) => {
    f();
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const t0 = process.cpuUsage();
      f();
      const t = process.cpuUsage(t0);
      best = Math.min(best, (t.user + t.system) / 1000);
    }
    return best;
  };

  it.each(Object.keys(SHAPES))('stays linear and never throws on 100 KB of %s', (name) => {
    const small = SHAPES[name]!(10_000);
    const large = SHAPES[name]!(100_000);
    const tSmall = cpu(() => checkCommand(small), 7);
    const tLarge = cpu(() => checkCommand(large), 5);
    // Ten times the input takes ten to twenty times as long (the garbage collector works harder on a
    // bigger tree); anything quadratic takes a hundred times, and runs into the absolute cap as well.
    expect(tLarge, `${name}: ${tLarge.toFixed(1)} ms for 100 KB, ${tSmall.toFixed(1)} ms for 10 KB`).toBeLessThan(40 * Math.max(tSmall, 1));
    expect(tLarge).toBeLessThan(500);
  });

  // The spec's budget: 50 ms for a 100 KB command on an ordinary idle machine (typically a few ms here).
  // The bound scales by how long a fixed allocation-heavy workload takes (about 10 ms when idle), timed
  // in the same breath, so a slow or contended CI runner does not fail it.
  it.each(TYPICAL)('answers 100 KB of %s well inside 50 ms', (name) => {
    const input = SHAPES[name]!(100_000);
    const calibration = cpu(() => {
      const a: unknown[] = [];
      for (let i = 0; i < 200_000; i++) a.push({ i, s: [i], t: `x${i}` });
    }, 5);
    const ms = cpu(() => checkCommand(input), 5);
    expect(ms, `${name}: ${ms.toFixed(1)} ms`).toBeLessThan(50 * Math.max(1, calibration / 10));
  });
});
