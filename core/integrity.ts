/**
 * Bundle integrity: the sha256 of a plugin's main file, in SRI form. Pinned in the store at install and
 * checked before every load, so a bundle changed on disk after install never runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function integrityOf(bytes: Buffer | string): string {
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
}

export function fileIntegrity(file: string): string {
  return integrityOf(readFileSync(file));
}
