/**
 * Which files a command writes to or deletes, read from its own arguments: `tee` targets, the
 * destination of `cp`/`mv`/`install`/`ln`/`rsync`/`scp`, `sed -i` and `perl -i` files, `truncate`,
 * `rm`, `curl -o`, `wget -O`. Each target goes through `writeScope`: block devices are hardline, and
 * /etc, ~/.ssh, shell startup files and credential files are dangerous. Reading any of them is fine.
 * Redirects (`> file`) are the walker's, since they belong to the command rather than to its arguments.
 */
import type { CheckContext } from './command-checks.js';
import { basename, type CommandView } from './command-shape.js';
import { hasOption, parseArgs, writeScope } from './command-rules.js';

export const RM_LIKE = new Set(['rm', 'unlink', 'shred']);
const NONE: string[] = Object.freeze([]) as unknown as string[];
const URL_ARG = /^(https?|ftp):\/\//;

/** Files a command writes to or deletes, from its own arguments (redirects are handled per command). */
export function writeTargets(name: string, args: string[]): string[] {
  const last = (pos: string[]) => (pos.length >= 2 ? [pos[pos.length - 1]!] : []);
  switch (name) {
    case 'tee': return parseArgs(args).pos;
    case 'cp': case 'install': case 'ln': case 'rsync': case 'scp': {
      const a = parseArgs(args, name === 'install' ? 'mogSt' : name === 'scp' ? 'PioFclSJ' : name === 'rsync' ? 'eft' : 'St', ['--target-directory', '--suffix', '--rsh', '--filter', '--exclude', '--include']);
      return a.values.get('t') ?? a.values.get('--target-directory') ?? last(a.pos);
    }
    case 'mv': {
      const a = parseArgs(args, 'St', ['--target-directory', '--suffix']);
      return [...(a.values.get('t') ?? []), ...(a.values.get('--target-directory') ?? []), ...(a.pos.length >= 2 ? a.pos : [])];
    }
    case 'sed': {
      const a = parseArgs(args, 'efl', ['--expression', '--file', '--line-length']);
      if (!hasOption(a, 'i', ['--in-place'])) return [];
      return hasOption(a, 'ef', ['--expression', '--file']) ? a.pos : a.pos.slice(1);
    }
    case 'perl': {
      const a = parseArgs(args, 'eE');
      if (!a.short.includes('i')) return [];
      return hasOption(a, 'eE') ? a.pos : a.pos.slice(1);
    }
    case 'truncate': return parseArgs(args, 'sr', ['--size', '--reference']).pos;
    case 'rm': case 'unlink': case 'shred': return parseArgs(args, 'ns', ['--iterations', '--size', '--random-source']).pos;
    case 'curl': {
      const a = parseArgs(args, 'oHdXuAebcFTwxmrKECyYzUQt', ['--output', '--header', '--data', '--request', '--user', '--url']);
      return [...(a.values.get('o') ?? []), ...(a.values.get('--output') ?? [])];
    }
    case 'wget': {
      const a = parseArgs(args, 'OoaPeUTtwQ', ['--output-document']);
      return [...(a.values.get('O') ?? []), ...(a.values.get('--output-document') ?? [])].filter((p) => p !== '-');
    }
    default: return NONE;
  }
}

/** Where a fetcher saves what it downloads: -o/-O targets, or the URL's file name (`curl -O`, plain wget). */
export function downloadTargets(v: CommandView): string[] {
  const args = v.args.map((w) => w.text);
  const explicit = writeTargets(v.name, args);
  const urlNames = () => args.filter((a) => URL_ARG.test(a)).map((u) => basename(u.split(/[?#]/)[0]!)).filter(Boolean);
  if (v.name === 'curl' && args.some((a) => a === '-O' || a === '--remote-name' || a === '--remote-name-all' || (/^-[^-]/.test(a) && a.includes('O')))) {
    return [...explicit, ...urlNames()];
  }
  if (v.name === 'wget' && explicit.length === 0) return urlNames();
  return explicit;
}

/** Reports a write to `path` (seen from the current directory) if it touches a sensitive place. */
export function checkWrite(path: string, ctx: CheckContext): void {
  const w = writeScope(ctx.resolve(path));
  if (w) ctx.hit(w.rule, w.reason);
}
