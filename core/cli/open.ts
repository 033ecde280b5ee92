/** Opens the kernel the CLI uses: the Caduceus home from the environment, bundled plugins from the package. */
import { join } from 'node:path';
import { Kernel } from '../kernel.js';
import { PACKAGE_ROOT } from '../version.js';

export function openKernel(): Kernel {
  return new Kernel({ bundledDir: join(PACKAGE_ROOT, 'plugins') });
}

/** Runs fn with a kernel and always closes it, reporting calls that never settled. */
export async function withKernel<T>(fn: (k: Kernel) => Promise<T>): Promise<T> {
  const k = openKernel();
  try {
    return await fn(k);
  } finally {
    const { unsettled } = await k.close();
    for (const u of unsettled) process.stderr.write(`warning: ${u} never settled before shutdown\n`);
  }
}
