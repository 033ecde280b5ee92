/**
 * Every public export of `caduceus/sdk` and `caduceus/sdk/testing` carries TSDoc with an `@example`
 * (house style, rule 18): authors read these in their editor's hover before they read any doc page.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const ENTRIES = ['sdk/index.ts', 'sdk/types.ts', 'sdk/constants.ts', 'sdk/testing.ts', 'sdk/sse.ts', 'sdk/provider-kit.ts', 'sdk/chat-types.ts'];

function undocumented(file: string): string[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const missing: string[] = [];
  lines.forEach((line, i) => {
    const m = /^export (?:async )?(?:interface|type|const|function|class) (\w+)|^export \{ (\w+) \};/.exec(line);
    if (!m) return;
    let j = i - 1;
    if (!lines[j]?.trim().endsWith('*/')) return void missing.push(`${file}:${i + 1} ${m[1] ?? m[2]}`);
    while (j > 0 && !lines[j]!.trim().startsWith('/**')) j--;
    if (!lines.slice(j, i).some((l) => l.includes('@example'))) missing.push(`${file}:${i + 1} ${m[1] ?? m[2]}`);
  });
  return missing;
}

describe('SDK documentation', () => {
  it.each(ENTRIES)('%s: every export has TSDoc with an @example', (file) => {
    expect(undocumented(file)).toEqual([]);
  });
});
