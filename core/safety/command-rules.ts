/**
 * The command-safety rule table and the vocabulary the checks share: which paths are the root, a home
 * or a system directory, which are sensitive to write, which are block devices, and a small argument
 * parser. Rule ids are stable strings (`hardline.rm-root`, `dangerous.pipe-to-shell`); config, audit rows
 * and operators refer to them, so an id is never renamed or reused. Each description is one plain
 * phrase an operator can read in an approval prompt.
 */

export type RuleVerdict = 'dangerous' | 'hardline';
export interface CommandRule { id: string; verdict: RuleVerdict; description: string }

const HARDLINE = {
  'hardline.rm-root': 'deletes the root directory or everything under it',
  'hardline.rm-home': 'deletes a home directory',
  'hardline.rm-system': 'deletes a system directory such as /etc, /usr or /boot',
  'hardline.mkfs': 'formats a filesystem or erases a disk (mkfs, wipefs, diskutil erase)',
  'hardline.dd-device': 'writes raw data onto a block device with dd',
  'hardline.device-write': 'overwrites a block device (redirect, tee, cp or shred onto /dev/sda and the like)',
  'hardline.fork-bomb': 'defines a fork bomb, a function that keeps spawning copies of itself',
  'hardline.kill-all': 'signals every process on the machine (kill -1)',
  'hardline.power': 'shuts down, reboots or halts the machine',
  'hardline.chmod-root': 'recursively changes permissions or ownership of the root or a system directory',
} as const;

const DANGEROUS = {
  'dangerous.rm-recursive': 'deletes files recursively',
  'dangerous.chmod-world-writable': 'makes files writable by everyone (chmod 777, a+rwx)',
  'dangerous.sql-destructive': 'destroys database data (DROP, TRUNCATE, DELETE without WHERE, FLUSHALL)',
  'dangerous.pipe-to-shell': 'runs content downloaded from the network in a shell or interpreter',
  'dangerous.decode-to-shell': 'decodes hidden content and runs it in a shell or interpreter',
  'dangerous.write-system': 'writes to /etc or another system directory',
  'dangerous.write-ssh': 'writes to ~/.ssh',
  'dangerous.write-shell-rc': 'writes to a shell startup file such as ~/.bashrc',
  'dangerous.write-credentials': 'writes to a credentials file such as ~/.aws/credentials or ~/.netrc',
  'dangerous.git-force-push': 'force-pushes, which can overwrite history on the remote',
  'dangerous.git-reset-hard': 'discards uncommitted changes with git reset --hard',
  'dangerous.git-clean': 'deletes untracked files with git clean',
  'dangerous.find-delete': 'deletes the files find matches (-delete or -exec rm)',
  'dangerous.xargs-rm': 'deletes files named on standard input (xargs rm)',
  'dangerous.inline-code': 'runs inline code through an interpreter (bash -c, python -c, node -e, …)',
  'dangerous.sudo-shell': 'opens a root or other-user shell, or feeds sudo a password on stdin (sudo -s/-i/-S, su)',
  'dangerous.kill-by-name': 'kills processes by name (pkill, killall)',
  'dangerous.crontab-remove': "deletes the user's crontab (crontab -r)",
  'dangerous.too-complex': 'is nested too deeply to analyse, so a person should read it',
} as const;

export type RuleId = keyof typeof HARDLINE | keyof typeof DANGEROUS;

export const COMMAND_RULES: readonly CommandRule[] = Object.freeze([
  ...Object.entries(HARDLINE).map(([id, description]) => Object.freeze({ id, verdict: 'hardline' as const, description })),
  ...Object.entries(DANGEROUS).map(([id, description]) => Object.freeze({ id, verdict: 'dangerous' as const, description })),
]);

const RULES_BY_ID = new Map(COMMAND_RULES.map((r) => [r.id, r]));
export function ruleById(id: RuleId): CommandRule {
  return RULES_BY_ID.get(id)!;
}

// ---- paths ----------------------------------------------------------------------------------------

const SYSTEM_TOP = new Set(['etc', 'usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'boot', 'var', 'opt', 'sys', 'proc', 'dev',
  'System', 'Library', 'Applications', 'private']);
const USR_CHILDREN = new Set(['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libexec', 'share', 'include', 'local']);
const HOMES_TOP = new Set(['home', 'Users']);
const GLOB_CHARS = /[*?[]/;

/** The part of a path below a home directory ('' for the home itself), or null when it is not under one. */
export function homeRelative(path: string): string | null {
  const forms = ['~', '$HOME', '${HOME}'];
  for (const f of forms) {
    if (path === f) return '';
    if (path.startsWith(f + '/')) return path.slice(f.length + 1);
  }
  if (/^~[A-Za-z0-9_.-]+(\/|$)/.test(path)) return path.slice(path.indexOf('/') < 0 ? path.length : path.indexOf('/') + 1);
  const abs = splitAbsolute(path);
  if (!abs) return null;
  if (abs[0] === 'root') return abs.slice(1).join('/');
  if (abs.length >= 2 && HOMES_TOP.has(abs[0]!)) return abs.slice(2).join('/');
  return null;
}

/** An absolute path as resolved components (`/usr/../etc/` → ['etc']), or null for a relative one. */
export function splitAbsolute(path: string): string[] | null {
  if (!path.startsWith('/')) return null;
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

// A last component that matches everything: `*`, `.*`, `.[!.]*`, `{*,.*}`.
function matchesAll(component: string): boolean {
  return component.includes('*') && component.replace(/[*?.[\]!{},^]/g, '') === '';
}

export type TreeScope = 'root' | 'home' | 'system';

/** Whether deleting (or recursively chmod-ing) `path` would take out the root, a home or a system directory. */
export function treeScope(path: string): TreeScope | null {
  const rel = homeRelative(path);
  if (rel !== null && !path.startsWith('/')) {
    const parts: string[] = [];
    for (const p of rel.split('/')) {
      if (p === '' || p === '.') continue;
      if (p !== '..') parts.push(p);
      else if (!parts.pop()) return 'home'; // above the home directory: /home itself
    }
    return parts.length === 0 || (parts.length === 1 && matchesAll(parts[0]!)) ? 'home' : null;
  }
  const parts = splitAbsolute(path);
  if (!parts) return null;
  if (parts.length && matchesAll(parts[parts.length - 1]!)) parts.pop();
  const [a, b] = parts;
  if (a === undefined) return 'root';
  if (GLOB_CHARS.test(a)) return 'root';
  if (parts.length === 1) {
    if (SYSTEM_TOP.has(a)) return 'system';
    if (HOMES_TOP.has(a) || a === 'root') return 'home';
    return null;
  }
  if (parts.length === 2 && b !== undefined) {
    if (HOMES_TOP.has(a)) return 'home';
    if (a === 'usr' && USR_CHILDREN.has(b)) return 'system';
    if (SYSTEM_TOP.has(a) && GLOB_CHARS.test(b)) return 'system';
  }
  return null;
}

const BLOCK_DEVICE = /^\/dev\/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|rdisk\d|md\d|dm-\d|mapper\/|disk\/)/;

export function isBlockDevice(path: string): boolean {
  const parts = splitAbsolute(path);
  return parts !== null && BLOCK_DEVICE.test('/' + parts.join('/'));
}

const RC_FILES = new Set(['.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile',
  '.zlogin', '.zlogout', '.kshrc', '.cshrc', '.tcshrc', '.inputrc', '.config/fish/config.fish']);
const CREDENTIAL_FILES = new Set(['.netrc', '.npmrc', '.git-credentials', '.pypirc', '.pgpass', '.my.cnf', '.docker/config.json', '.kube/config']);
const CREDENTIAL_DIRS = ['.aws', '.config/gh', '.gnupg', '.config/gcloud'];
const WRITE_SYSTEM_TOP = new Set(['etc', 'boot', 'usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'sys', 'proc', 'private']);

export interface WriteHit { rule: RuleId; reason: string }

/** The rule a write to (or deletion of) `path` breaks, if any. Reading any of these is fine. */
export function writeScope(path: string): WriteHit | null {
  if (isBlockDevice(path)) return { rule: 'hardline.device-write', reason: `overwrites the block device ${path}` };
  const abs = splitAbsolute(path);
  if (abs && abs[0] === 'proc' && abs[1] === 'sysrq-trigger') return { rule: 'hardline.power', reason: 'triggers a kernel SysRq action (crash, reboot or power-off)' };
  const rel = homeRelative(path);
  if (rel !== null) {
    const r = rel.split('/').filter((p) => p !== '' && p !== '.').join('/');
    if (r === '.ssh' || r.startsWith('.ssh/')) return { rule: 'dangerous.write-ssh', reason: `writes to ${path}` };
    if (RC_FILES.has(r)) return { rule: 'dangerous.write-shell-rc', reason: `writes to the shell startup file ${path}` };
    if (CREDENTIAL_FILES.has(r) || CREDENTIAL_DIRS.some((d) => r === d || r.startsWith(d + '/'))) {
      return { rule: 'dangerous.write-credentials', reason: `writes to the credentials file ${path}` };
    }
  }
  if (abs && abs.length && WRITE_SYSTEM_TOP.has(abs[0]!) && !(abs[0] === 'private' && abs[1] === 'tmp')) {
    return { rule: 'dangerous.write-system', reason: `writes to the system path ${path}` };
  }
  return null;
}

// ---- arguments ------------------------------------------------------------------------------------

export interface Args {
  /** Non-option arguments, in order (everything after `--` included). */
  pos: string[];
  /** Short option letters seen, from every cluster (`-rf` → 'rf'). */
  short: string;
  /** Long options seen, without `=value`. */
  long: string[];
  /** Values of options that take one: short letter or long name → values. */
  values: Map<string, string[]>;
}

// Shared while no option has a value (the common case); `put` swaps in a fresh map before writing.
const NO_VALUES = new Map<string, string[]>();

/**
 * getopt-style parsing: short options in `valued` take the rest of the cluster or the next argument;
 * long options in `longValued` take `=value` or the next argument.
 */
export function parseArgs(args: readonly string[], valued = '', longValued: readonly string[] = []): Args {
  const a: Args = { pos: [], short: '', long: [], values: NO_VALUES };
  const put = (k: string, v: string) => {
    if (a.values === NO_VALUES) a.values = new Map();
    const list = a.values.get(k) ?? [];
    list.push(v);
    a.values.set(k, list);
  };
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (t === '--') { for (let k = i + 1; k < args.length; k++) a.pos.push(args[k]!); break; }
    if (t.startsWith('--')) {
      const eq = t.indexOf('=');
      const name = eq < 0 ? t : t.slice(0, eq);
      a.long.push(name);
      if (eq >= 0) put(name, t.slice(eq + 1));
      else if (longValued.includes(name) && i + 1 < args.length) put(name, args[++i]!);
      continue;
    }
    if (t.length < 2 || t[0] !== '-') { a.pos.push(t); continue; }
    for (let k = 1; k < t.length; k++) {
      const ch = t[k]!;
      a.short += ch;
      if (valued.includes(ch)) {
        if (k < t.length - 1) put(ch, t.slice(k + 1));
        else if (i + 1 < args.length) put(ch, args[++i]!);
        break;
      }
    }
  }
  return a;
}

/** Whether any of the short letters or long names was given. */
export function hasOption(a: Args, short: string, long: readonly string[] = []): boolean {
  for (let i = 0; i < short.length; i++) if (a.short.includes(short[i]!)) return true;
  return long.some((l) => a.long.includes(l));
}
