/**
 * The per-command checks: given one command that runs (a `CommandView`, wrappers already peeled off),
 * report which rules it breaks. Each check reads only that command's own arguments, so text that merely
 * mentions a command (`echo reboot`, `git commit -m "rm -rf /"`) is never flagged; what a command runs in
 * turn (`find -exec`, `bash -c`, `ssh host …`, `su -c`) is handed back to the walker as nested code.
 * Writes to sensitive files are command-writes.ts.
 */
import type { Script } from './command-parse.js';
import { basename, type CommandView } from './command-shape.js';
import { awkRunsCommands, interpret, isInterpreter } from './command-interp.js';
import { destructiveSql, isSqlClient, sqlClientText } from './command-sql.js';
import { hasOption, isBlockDevice, parseArgs, treeScope, type RuleId, type TreeScope } from './command-rules.js';
import { checkWrite, RM_LIKE, writeTargets } from './command-writes.js';

export interface CheckContext {
  hit(rule: RuleId, reason?: string): void;
  /** Classify text as shell code, one level deeper. */
  code(text: string): void;
  /** Classify the shell strings inside a program in another language. */
  foreignCode(program: string): void;
  /** Classify words as a nested simple command (`find -exec rm {} ;`). */
  run(words: string[]): void;
  /** Whether any command in these scripts satisfies `test`. */
  runs(scripts: readonly Script[], test: (v: CommandView) => boolean): boolean;
  /** True when the command is first in its pipeline and has no stdin redirect: a terminal is its stdin. */
  interactive: boolean;
  /** A path as seen from the directory an earlier `cd` in the line moved to (unchanged when unknown). */
  resolve(path: string): string;
}

export const FETCHERS = new Set(['curl', 'wget', 'fetch', 'http', 'https', 'xh', 'lwp-request', 'GET', 'aria2c', 'nc', 'ncat']);
const ROOTERS = new Set(['sudo', 'doas', 'pkexec']);
const POWER = new Set(['shutdown', 'reboot', 'halt', 'poweroff']);
const POWER_VERBS = new Set(['init', 'telinit', 'systemctl', 'loginctl']);
const MKFS = new Set(['mkfs', 'mke2fs', 'mkswap', 'mkdosfs', 'mkntfs', 'mkexfatfs', 'wipefs']);
const DISKUTIL_ERASE = new Set(['erasedisk', 'erasevolume', 'zerodisk', 'randomdisk', 'secureerase', 'partitiondisk', 'reformat']);
const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);
const FIND_TESTS = new Set(['-name', '-iname', '-path', '-ipath', '-regex', '-iregex', '-type', '-newer', '-mtime', '-mmin', '-atime', '-amin',
  '-ctime', '-cmin', '-size', '-user', '-group', '-perm', '-empty', '-prune', '-wholename', '-iwholename', '-links', '-inum', '-samefile',
  '-lname', '-ilname', '-fstype', '-uid', '-gid', '-nouser', '-nogroup', '-readable', '-writable', '-executable', '-false']);
const SCOPE_RULE: Record<TreeScope, RuleId> = { root: 'hardline.rm-root', home: 'hardline.rm-home', system: 'hardline.rm-system' };

export const isFetcher = (v: CommandView) => FETCHERS.has(v.name);

export function isDecoder(v: CommandView): boolean {
  const args = v.args.map((w) => w.text);
  switch (v.name) {
    case 'base64': case 'base32': case 'basenc': case 'gbase64':
      return hasOption(parseArgs(args, 'wi', ['--wrap']), 'dD', ['--decode']);
    case 'xxd': return args.some((a) => a === '-revert' || (/^-[a-z]{1,3}$/.test(a) && a.includes('r')));
    case 'openssl': return args.includes('-d') || args.includes('-decrypt');
    case 'uudecode': case 'rev': return true;
    default: return false;
  }
}

function scopeReason(scope: TreeScope, target: string): string {
  if (scope === 'root') return target === '/' ? 'deletes the root directory' : `deletes everything under / (${target})`;
  return scope === 'home' ? `deletes the home directory ${target}` : `deletes the system directory ${target}`;
}

/** Hardline hits for targets that are the root, a home or a system tree; `fallback` for any other. */
export function deleteTrees(targets: string[], ctx: CheckContext, fallback: RuleId | null): void {
  let plain = targets.length === 0;
  for (const t of targets) {
    const path = ctx.resolve(t);
    const scope = treeScope(path);
    if (scope) ctx.hit(SCOPE_RULE[scope], scopeReason(scope, path));
    else plain = true;
  }
  if (plain && fallback) ctx.hit(fallback);
}

export function checkRm(args: string[], ctx: CheckContext): void {
  const a = parseArgs(args);
  if (a.long.includes('--no-preserve-root')) ctx.hit('hardline.rm-root', 'deletes the root directory (--no-preserve-root)');
  if (hasOption(a, 'rR', ['--recursive'])) deleteTrees(a.pos, ctx, 'dangerous.rm-recursive');
}

function checkKill(args: string[], ctx: CheckContext): void {
  const pids: string[] = [];
  let signal: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (t === '--') { for (let k = i + 1; k < args.length; k++) pids.push(args[k]!); break; }
    if (t === '-s' || t === '-n' || t === '--signal') { signal = args[++i] ?? ''; continue; }
    if (t === '-l' || t === '-L' || t === '--list' || t === '--table') return;
    if (t.startsWith('-') && signal === null && pids.length === 0) { signal = t; continue; }
    pids.push(t);
  }
  // `kill -1` alone is a usage error in bash, but it is what someone means by "kill everything".
  if (pids.includes('-1') || (pids.length === 0 && signal === '-1')) ctx.hit('hardline.kill-all');
}

function worldWritable(mode: string): boolean {
  if (/^[0-7]{3,4}$/.test(mode)) return (Number(mode[mode.length - 1]) & 2) !== 0;
  for (const clause of mode.split(',')) {
    let i = 0;
    while (i < clause.length && 'ugoa'.includes(clause[i]!)) i++;
    const who = clause.slice(0, i);
    const everyone = who.includes('a') || who.includes('o');
    while (i < clause.length) {
      const op = clause[i++]!;
      let perms = '';
      while (i < clause.length && !'+-='.includes(clause[i]!)) perms += clause[i++];
      if (everyone && (op === '+' || op === '=') && perms.includes('w')) return true;
    }
  }
  return false;
}

function checkOwnership(name: string, args: string[], ctx: CheckContext): void {
  const a = parseArgs(args);
  const byReference = a.long.includes('--reference');
  const files = byReference ? a.pos : a.pos.slice(1);
  if (hasOption(a, 'R', ['--recursive'])) {
    for (const f of files) {
      const scope = treeScope(ctx.resolve(f));
      if (scope === 'root' || scope === 'system') ctx.hit('hardline.chmod-root', `recursively changes ${name === 'chmod' ? 'permissions' : 'ownership'} of ${f}`);
    }
  }
  const mode = a.pos[0];
  if (name === 'chmod' && !byReference && mode !== undefined && worldWritable(mode)) {
    ctx.hit('dangerous.chmod-world-writable', `makes ${files.join(' ') || 'the files'} writable by everyone (chmod ${mode})`);
  }
}

function checkGit(args: string[], ctx: CheckContext): void {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    i += ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix'].includes(args[i]!) ? 2 : 1;
  }
  const sub = args[i];
  const rest = args.slice(i + 1);
  if (sub === 'push') {
    const a = parseArgs(rest, 'o', ['--push-option', '--repo', '--receive-pack', '--exec']);
    if (hasOption(a, 'f', ['--force', '--force-with-lease', '--force-if-includes', '--mirror']) || a.pos.some((p) => p.startsWith('+'))) {
      ctx.hit('dangerous.git-force-push');
    }
  } else if (sub === 'reset' && rest.includes('--hard')) ctx.hit('dangerous.git-reset-hard');
  else if (sub === 'clean') {
    const a = parseArgs(rest, 'e', ['--exclude']);
    if (hasOption(a, 'f', ['--force']) && !hasOption(a, 'n', ['--dry-run'])) ctx.hit('dangerous.git-clean');
  }
}

function checkFind(args: string[], ctx: CheckContext): void {
  let i = 0;
  while (i < args.length && /^-([HLP]|O\d*|D)$/.test(args[i]!)) i += args[i] === '-D' ? 2 : 1;
  const starts: string[] = [];
  while (i < args.length && !args[i]!.startsWith('-') && args[i] !== '(' && args[i] !== '!') starts.push(args[i++]!);
  let deletes = false;
  let tests = false;
  for (; i < args.length; i++) {
    const t = args[i]!;
    if (t === '-delete') deletes = true;
    else if (FIND_TESTS.has(t)) tests = true;
    else if (FIND_EXEC.has(t)) {
      const words: string[] = [];
      while (++i < args.length && args[i] !== ';' && args[i] !== '+') words.push(args[i]!);
      if (words.length && RM_LIKE.has(basename(words[0]!))) deletes = true;
      if (words.length) ctx.run(words);
    }
  }
  if (!deletes) return;
  ctx.hit('dangerous.find-delete');
  // `find / -delete` with no test narrowing it is `rm -rf /`; `find / -name '*.log' -delete` is not.
  if (!tests) deleteTrees(starts.length ? starts : ['.'], ctx, null);
}

const POWER_EFFECT: Record<string, string> = {
  shutdown: 'shuts down', reboot: 'reboots', halt: 'halts', poweroff: 'powers off', kexec: 'reboots', 'soft-reboot': 'reboots',
  '0': 'powers off', '6': 'reboots', 'poweroff.target': 'powers off', 'reboot.target': 'reboots', 'halt.target': 'halts',
};

function checkPower(name: string, args: string[], ctx: CheckContext): void {
  if (POWER.has(name)) {
    if (!(name === 'shutdown' && args.some((a) => a === '-c' || a === '--help'))) ctx.hit('hardline.power', `${name} ${POWER_EFFECT[name]} the machine`);
    return;
  }
  const pos = parseArgs(args, 'HMtpsn', ['--host', '--machine', '--type', '--property', '--signal', '--lines']).pos;
  const [verb, unit] = pos;
  const stops = (name === 'init' || name === 'telinit') ? verb === '0' || verb === '6'
    : name === 'systemctl' ? ['poweroff', 'reboot', 'halt', 'kexec', 'soft-reboot'].includes(verb ?? '')
      || (['isolate', 'start'].includes(verb ?? '') && ['poweroff.target', 'reboot.target', 'halt.target'].includes(unit ?? ''))
      : name === 'loginctl' && ['poweroff', 'reboot', 'halt'].includes(verb ?? '');
  if (stops) ctx.hit('hardline.power', `${name} ${[verb, unit].filter(Boolean).join(' ')} ${POWER_EFFECT[unit ?? ''] ?? POWER_EFFECT[verb ?? ''] ?? 'stops'} the machine`);
}

const SUDO_EFFECT: Record<string, string> = { s: 'opens a root shell', i: 'opens a root login shell', S: 'reads the password from stdin' };
const SUDO_LONG: Partial<Record<string, string>> = { '--shell': 's', '--login': 'i', '--stdin': 'S' };

function checkSudo(v: CommandView, ctx: CheckContext): void {
  const args = v.args.map((w) => w.text);
  const valued = v.name === 'doas' ? 'uC' : 'ugCDprtTUR';
  const shellLetters = v.name === 'doas' ? 's' : 'siS';
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (t === '--' || !t.startsWith('-') || t.length < 2) return;
    if (t.startsWith('--')) {
      const letter = SUDO_LONG[t];
      if (letter !== undefined) { ctx.hit('dangerous.sudo-shell', `${v.name} ${t} ${SUDO_EFFECT[letter]}`); return; }
      continue;
    }
    for (let k = 1; k < t.length; k++) {
      if (shellLetters.includes(t[k]!)) { ctx.hit('dangerous.sudo-shell', `${v.name} -${t[k]} ${SUDO_EFFECT[t[k]!]}`); return; }
      if (valued.includes(t[k]!)) { if (k === t.length - 1) i++; break; }
    }
  }
}

function checkInterpreter(v: CommandView, ctx: CheckContext): void {
  const inv = interpret(v);
  if (!inv) return;
  const feeds = (scripts: readonly Script[]) => {
    if (ctx.runs(scripts, isFetcher)) ctx.hit('dangerous.pipe-to-shell', `${v.name} runs code fetched from the network`);
    if (ctx.runs(scripts, isDecoder)) ctx.hit('dangerous.decode-to-shell', `${v.name} runs decoded content`);
  };
  if (inv.kind === 'code') {
    // Network or decoded content first: it is the more telling reason when both apply.
    if (inv.codeWord) feeds(inv.codeWord.subs);
    ctx.hit('dangerous.inline-code', `runs inline code with ${v.name}`);
    if (inv.lang === 'shell') ctx.code(inv.code);
    else ctx.foreignCode(inv.code);
  }
  for (const w of v.args) if (w.procSub === '<') feeds(w.subs);
  if (inv.kind === 'stdin' && inv.lang === 'shell' && ctx.interactive && ROOTERS.has(v.via[v.via.length - 1] ?? '')) {
    ctx.hit('dangerous.sudo-shell', `opens a root ${v.name} shell`);
  }
  if ((v.name === 'pwsh' || v.name === 'powershell') && v.args.some((w) => /^-(e|ec|enc|encodedcommand)$/i.test(w.text))) {
    ctx.hit('dangerous.decode-to-shell', `${v.name} runs a base64-encoded command`);
  }
}

// ssh, watch, su -c and env -S hand a string to a shell; eval and source read code too.
function checkCodeCarriers(v: CommandView, args: string[], ctx: CheckContext): void {
  switch (v.name) {
    case 'eval': {
      const subs = v.args.flatMap((w) => w.subs);
      ctx.code(args.join(' '));
      if (ctx.runs(subs, isFetcher)) ctx.hit('dangerous.pipe-to-shell', 'eval runs code fetched from the network');
      if (ctx.runs(subs, isDecoder)) ctx.hit('dangerous.decode-to-shell', 'eval runs decoded content');
      return;
    }
    case 'source': case '.': {
      const procs = v.args.filter((w) => w.procSub === '<').flatMap((w) => w.subs);
      if (ctx.runs(procs, isFetcher)) ctx.hit('dangerous.pipe-to-shell', `${v.name} runs code fetched from the network`);
      if (ctx.runs(procs, isDecoder)) ctx.hit('dangerous.decode-to-shell', `${v.name} runs decoded content`);
      return;
    }
    case 'ssh': {
      const a = parseArgs(args, 'bcDEeFIiJLlmOopQRSWwB');
      if (a.pos.length > 1) ctx.code(a.pos.slice(1).join(' '));
      return;
    }
    case 'watch': {
      const a = parseArgs(args, 'nq', ['--interval']);
      if (a.pos.length) ctx.code(a.pos.join(' '));
      return;
    }
    case 'su': {
      ctx.hit('dangerous.sudo-shell', 'switches user with su');
      const a = parseArgs(args, 'csgGw', ['--command', '--shell', '--group', '--supp-group', '--whitelist-environment']);
      for (const c of [...(a.values.get('c') ?? []), ...(a.values.get('--command') ?? [])]) ctx.code(c);
      return;
    }
    case 'env': {
      const a = parseArgs(args, 'uCS', ['--unset', '--chdir', '--split-string']);
      const split = [...(a.values.get('S') ?? []), ...(a.values.get('--split-string') ?? [])];
      if (split.length) ctx.code([...split, ...a.pos].join(' '));
      return;
    }
    case 'awk': case 'gawk': case 'mawk': case 'nawk': {
      const a = parseArgs(args, 'Fvf', ['--field-separator', '--assign', '--file']);
      const program = a.values.has('f') || a.values.has('--file') ? undefined : a.pos[0];
      if (program !== undefined && awkRunsCommands(program)) {
        ctx.hit('dangerous.inline-code', `${v.name} runs shell commands`);
        ctx.foreignCode(program);
      }
      return;
    }
  }
}

// Every command name some check below reads (interpreters and SQL clients are recognised separately).
// Anything else is skipped before any work: most commands on a long line are `ls`, `cd`, `grep`, `echo`.
// A new check must add its command names here.
const CHECKED = new Set([
  'rm', 'rimraf', 'unlink', 'shred', 'kill', 'killall5', 'pkill', 'killall', ...MKFS, 'diskutil', 'dd', ...POWER, ...POWER_VERBS,
  'chmod', 'chown', 'chgrp', 'git', 'find', 'crontab', 'sudo', 'doas', 'dropdb', 'mysqladmin', 'redis-cli',
  'eval', 'source', '.', 'ssh', 'watch', 'su', 'env', 'awk', 'gawk', 'mawk', 'nawk',
  'tee', 'cp', 'install', 'ln', 'rsync', 'scp', 'mv', 'sed', 'perl', 'truncate', 'curl', 'wget',
]);

/** Whether any check reads commands of this name; `checkView` does nothing for the others. */
export function isChecked(name: string): boolean {
  return CHECKED.has(name) || name.startsWith('mkfs.') || name.startsWith('newfs') || isInterpreter(name) || isSqlClient(name);
}

/** Every rule one command view can break on its own (pipelines and redirects are the walker's). */
export function checkView(v: CommandView, ctx: CheckContext): void {
  const name = v.name;
  if (!isChecked(name)) return;
  const args = v.args.map((w) => w.text);
  if (name === 'rm') checkRm(args, ctx);
  else if (name === 'rimraf') deleteTrees(parseArgs(args).pos, ctx, 'dangerous.rm-recursive');
  else if (name === 'kill') checkKill(args, ctx);
  else if (name === 'killall5') ctx.hit('hardline.kill-all', 'killall5 signals every process');
  else if (name === 'pkill' || name === 'killall') ctx.hit('dangerous.kill-by-name', `${name} kills processes by name`);
  else if (MKFS.has(name) || name.startsWith('mkfs.') || name.startsWith('newfs')) ctx.hit('hardline.mkfs', `${name} formats or erases a filesystem`);
  else if (name === 'diskutil' && DISKUTIL_ERASE.has((args[0] ?? '').toLowerCase())) ctx.hit('hardline.mkfs', `diskutil ${args[0]} erases a disk`);
  else if (name === 'dd') {
    for (const a of args) {
      if (!a.startsWith('of=')) continue;
      if (isBlockDevice(a.slice(3))) ctx.hit('hardline.dd-device', `dd writes onto the block device ${a.slice(3)}`);
      else checkWrite(a.slice(3), ctx);
    }
  } else if (POWER.has(name) || POWER_VERBS.has(name)) checkPower(name, args, ctx);
  else if (name === 'chmod' || name === 'chown' || name === 'chgrp') checkOwnership(name, args, ctx);
  else if (name === 'git') checkGit(args, ctx);
  else if (name === 'find') checkFind(args, ctx);
  else if (name === 'crontab' && parseArgs(args, 'u').short.includes('r')) ctx.hit('dangerous.crontab-remove');
  else if (name === 'sudo' || name === 'doas') checkSudo(v, ctx);
  else if (name === 'dropdb' || (name === 'mysqladmin' && args.some((a) => a.toLowerCase() === 'drop'))) ctx.hit('dangerous.sql-destructive', `${name} drops a database`);
  else if (name === 'redis-cli' && args.some((a) => /^flush(all|db)$/i.test(a))) ctx.hit('dangerous.sql-destructive', 'flushes a Redis database');
  checkInterpreter(v, ctx);
  checkCodeCarriers(v, args, ctx);
  for (const sql of sqlClientText(name, args)) {
    const reason = destructiveSql(sql);
    if (reason) ctx.hit('dangerous.sql-destructive', reason);
  }
  if (v.via.includes('xargs') && RM_LIKE.has(name)) ctx.hit('dangerous.xargs-rm');
  for (const t of writeTargets(name, args)) checkWrite(t, ctx);
}
