/**
 * The plugin authoring commands: `caduceus plugin new | build | pack | dev`. Each loads its SDK module
 * on demand, so none of them costs the other commands start-up time.
 */
import { resolve } from 'node:path';
import { c, printJson, progress, EXIT } from './output.js';

/** `caduceus plugin build`: bundle a plugin and regenerate its manifest descriptors from code. */

export async function build(dir: string | undefined, opts: { json?: boolean; check?: boolean }): Promise<number> {
  const { buildPlugin } = await import('../../sdk/build.js');
  const r = await buildPlugin(resolve(dir ?? '.'), { check: opts.check === true });
  if (opts.json) printJson({ ok: true, id: r.manifest.id, version: r.manifest.version, bundle: r.bundleFile, bytes: r.bytes, integrity: r.integrity, tools: r.manifest.contributes.tools.map((t) => t.name), manifestChanged: r.manifestChanged });
  else console.log(`${c.green('✓')} built ${r.manifest.id}@${r.manifest.version}: ${r.bundleFile} (${r.bytes} bytes, ${r.manifest.contributes.tools.length} tools)${r.manifestChanged ? '; manifest updated' : ''}`);
  return EXIT.OK;
}

/** `caduceus plugin new <name>`: scaffold a plugin folder that builds, installs and tests as written. */
export async function scaffold(name: string, opts: { json?: boolean; dir?: string; description?: string }): Promise<number> {
  const { scaffoldPlugin } = await import('../../sdk/scaffold.js');
  const r = scaffoldPlugin(name, { ...(opts.dir ? { dir: opts.dir } : {}), ...(opts.description ? { description: opts.description } : {}) });
  if (opts.json) { printJson({ ok: true, ...r }); return EXIT.OK; }
  console.log(`${c.green('✓')} created ${r.dir} with tool ${r.tool}:`);
  for (const f of r.files) console.log(`  ${f}`);
  console.log(`next: caduceus plugin build ${name} && caduceus plugins install ${name} && caduceus plugins enable ${r.id} --yes`);
  return EXIT.OK;
}

/** `caduceus plugin pack [dir]`: build, then make the installable and publishable .tgz. */
export async function pack(dir: string | undefined, opts: { json?: boolean; out?: string }): Promise<number> {
  const { packPlugin } = await import('../../sdk/pack.js');
  if (!opts.json) progress('building and packing');
  const r = await packPlugin(resolve(dir ?? '.'), opts.out ? { out: opts.out } : {});
  if (opts.json) { printJson({ ok: true, ...r }); return EXIT.OK; }
  console.log(`${c.green('✓')} packed ${r.id}@${r.version}: ${r.file} (${r.bytes} bytes, ${r.entries.length} files)`);
  console.log(`install it with: caduceus plugins install ${r.file}   publish it with: npm publish ${r.file}`);
  return EXIT.OK;
}

/**
 * `caduceus plugin dev [dir]`: keep a kernel running with the plugin loaded, rebuild and hot-reload it
 * on every change, and take tool calls on stdin (`<tool> [json args]`). Ends on `quit`, end of input or
 * Ctrl-C. With --json every event and result is one JSON line on stdout.
 */
export async function dev(dir: string | undefined, opts: { json?: boolean; yes?: boolean }): Promise<number> {
  const { startDev } = await import('../../sdk/dev.js');
  const { openKernel } = await import('./open.js');
  const k = openKernel();
  const out = (human: string, event: object) => {
    if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
    else console.log(human);
  };
  let session: Awaited<ReturnType<typeof startDev>> | undefined;
  try {
    session = await startDev(k, resolve(dir ?? '.'), {
      consent: { yes: opts.yes === true },
      onEvent: (e) => {
        switch (e.type) {
          case 'ready': return out(`${c.green('✓')} ${e.id} generation ${e.generation} live in ${e.ms} ms; tools: ${e.tools.join(', ')}\n  watching for changes; type \`<tool> {json}\` to call a tool, \`quit\` to stop`, e);
          case 'change': return out(c.dim(`… changed: ${e.files.join(', ')}; rebuilding`), e);
          case 'reloaded': return out(`${c.green('↻')} reloaded ${e.id}: generation ${e.generation} live in ${e.ms} ms (generation ${e.previous ?? '-'} finishes its calls and stops)`, e);
          case 'failed': return out(`${c.red('✗')} ${e.stage} failed, generation ${e.live ?? '-'} stays live: ${e.error.code}: ${e.error.message}`, e);
          case 'permissions': return out(e.granted
            ? `${c.yellow('!')} granted new permissions: ${e.requested.join(', ')}`
            : `${c.yellow('!')} the plugin now requests ${e.requested.join(', ')}, not granted (run with --yes, or \`caduceus plugins grant ${e.id} ${e.requested.join(' ')}\`)`, e);
        }
      },
    });
    const s = session;
    const { createInterface } = await import('node:readline');
    const rl = createInterface({ input: process.stdin, terminal: false });
    const stop = new Promise<void>((done) => {
      rl.on('close', done);
      process.once('SIGINT', () => rl.close());
    });
    rl.on('line', (line) => {
      const text = line.trim();
      if (!text) return;
      if (text === 'quit' || text === 'exit') { rl.close(); return; }
      if (text === 'reload') { void s.rebuild(); return; }
      const space = text.indexOf(' ');
      const tool = space < 0 ? text : text.slice(0, space);
      let args: unknown = {};
      try {
        args = space < 0 ? {} : JSON.parse(text.slice(space + 1));
      } catch (err) {
        out(`${c.red('✗')} arguments are not JSON: ${(err as Error).message}`, { type: 'result', tool, ok: false, error: { code: 'CAD_ERR_TOOL_ARGS_JSON', message: (err as Error).message } });
        return;
      }
      const generation = s.generation();
      void k.callTool(tool, args, { caller: 'operator' }).then((r) => {
        if (r.ok) out(`${JSON.stringify(r.result)}`, { type: 'result', tool, generation, ok: true, result: r.result });
        else out(`${c.red('✗')} ${r.error.code}: ${r.error.message}`, { type: 'result', tool, generation, ok: false, error: r.error });
      });
    });
    await stop;
    // readline's close leaves stdin open, and an open pipe would keep the process alive.
    process.stdin.destroy();
    return EXIT.OK;
  } finally {
    await session?.stop();
    await k.close();
  }
}

/**
 * `caduceus plugin test [dir]`: build, then run the plugin's tests with node's test runner, resolving
 * `caduceus/sdk/testing` from this Caduceus when the plugin has not installed its own.
 */
export async function test(dir: string | undefined, opts: { json?: boolean }): Promise<number> {
  const folder = resolve(dir ?? '.');
  const { buildPlugin } = await import('../../sdk/build.js');
  const r = await buildPlugin(folder);
  if (!opts.json) console.log(`${c.green('✓')} built ${r.manifest.id}@${r.manifest.version}; running its tests`);
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const hook = fileURLToPath(new URL('../../sdk/resolve-hook-register.js', import.meta.url));
  const args = ['--no-node-snapshot', '--import', hook, '--test', ...(opts.json ? ['--test-reporter', 'tap'] : [])];
  const child = spawnSync(process.execPath, args, { cwd: folder, stdio: 'inherit' });
  return child.status === 0 ? EXIT.OK : EXIT.FAILURE;
}
