/**
 * Path strings, without node:path (the sandbox has no Node built-ins). The host resolves and contains
 * every path; these only build and split the absolute, `/`-separated paths the host hands back.
 */

export function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/+/g, '/');
}

export function basename(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1);
}

/** `child` relative to `parent`, or undefined when it is not inside it. */
export function within(parent: string, child: string): string | undefined {
  const base = parent.replace(/\/+$/, '');
  if (child === base) return '';
  return child.startsWith(`${base}/`) ? child.slice(base.length + 1) : undefined;
}

/**
 * A relative path a caller gave for a file inside a skill folder: no absolute paths, no `..`, no empty
 * or dot segments, no backslashes. Returns the normalised path or a reason.
 */
export function safeRelative(p: string): { path: string } | { reason: string } {
  if (typeof p !== 'string' || p === '') return { reason: 'is empty' };
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p)) return { reason: 'is absolute; give a path relative to the skill folder' };
  if (p.includes('\\')) return { reason: 'contains a backslash; use / between folders' };
  if (p.includes('\0')) return { reason: 'contains a NUL character' };
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) return { reason: 'contains ..; stay inside the skill folder' };
  if (parts.some((s) => s.startsWith('.'))) return { reason: 'names a hidden file or folder' };
  if (parts.length === 0) return { reason: 'is empty' };
  return { path: parts.join('/') };
}
