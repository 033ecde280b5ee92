/**
 * Bundle integrity: the sha256 of a plugin's main file, in SRI form. Pinned in the store at install and
 * checked before every load, so a bundle changed on disk after install never runs.
 */
import { readFileSync } from 'node:fs';

export function integrityOf(bytes: Buffer | string): string {
  // Loaded on first use, so importing this module costs listings nothing.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
}

export function fileIntegrity(file: string): string {
  return integrityOf(readFileSync(file));
}
