/**
 * Type-checks a throwaway TypeScript project the way a plugin author's would be: `caduceus` resolves
 * through node_modules (a symlink to this repo, so its package.json exports and built dist/ types are
 * what is checked), strict NodeNext settings. Uses the repo's own typescript. `.d.ts` files are checked
 * only with `libCheck` (zod's declarations behind caduceus/sdk take seconds to check).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT, tempDir } from './cli.js';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

export interface TsProject {
  dir: string;
  write: (file: string, text: string) => void;
  /** Runs tsc --noEmit on the given files; `errors` are the `file(line,col): error TSxxxx: …` lines. */
  check: (files: string[], opts?: { libCheck?: boolean }) => { code: number; output: string; errors: string[] };
}

export function tsProject(): TsProject {
  const dir = tempDir('cad-tsc-');
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/caduceus'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  return {
    dir,
    write(file, text) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    },
    check(files, opts = {}) {
      const config = {
        compilerOptions: {
          target: 'ES2022', lib: ['ES2022'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
          skipLibCheck: !opts.libCheck, skipDefaultLibCheck: true, types: [],
        },
        files,
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
      const r = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      const output = `${r.stdout}${r.stderr}`;
      return { code: r.status ?? -1, output, errors: output.split('\n').filter((l) => / error TS\d+:/.test(l)) };
    },
  };
}
