/** The running Caduceus version, read once from package.json (engine ranges are checked against it). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'caduceus') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('caduceus: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
export const CADUCEUS_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Which caduceus/sdk versions this host runs bundles from (the build records its SDK version in the
 * manifest's `sdk`). Within 0.x a minor version may change the sandbox protocol, so the range is the
 * current minor; from 1.0 it is the major.
 */
export const SUPPORTED_SDK_RANGE = ((v: string) => {
  const [major, minor] = v.split('.');
  return major === '0' ? `>=0.${minor}.0 <0.${Number(minor) + 1}.0` : `>=${major}.0.0 <${Number(major) + 1}.0.0`;
})(CADUCEUS_VERSION);
