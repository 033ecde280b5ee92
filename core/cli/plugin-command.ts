/**
 * The CLI's side of plugin commands: `caduceus <name> ...args` for a name an installed plugin contributes.
 * `--help` is answered from the manifest without starting the plugin; otherwise the command runs in the
 * plugin's sandbox (core/command-run.ts) with its output going straight to stdout and stderr. Ctrl-C (or
 * SIGTERM) stops the run and the plugin's isolate, the kernel closes normally, and the exit code is 130
 * (143 for SIGTERM); a second Ctrl-C exits at once.
 */
import { commandTable, resolveCommand, type CommandEntry } from '../commands.js';
import { runPluginCommand } from '../command-run.js';
import { openKernel } from './open.js';
import { c, printError, EXIT } from './output.js';

/** Runs the command if some installed plugin contributes args[0]; false when none does (not ours). */
export async function dispatch(args: string[]): Promise<boolean> {
  const name = args[0]!;
  const rest = args.slice(1);
  const json = rest.includes('--json');
  const argv = rest.filter((a) => a !== '--json');
  const k = openKernel();
  let handled = false;
  try {
    const entries = commandTable(k.plugins()).byName.get(name);
    if (!entries) return false;
    handled = true;
    if (argv.includes('--help') || argv.includes('-h')) {
      const enabled = entries.filter((e) => e.enabled);
      process.stdout.write(`${usage(enabled.length === 1 ? enabled[0]! : entries[0]!, argv[0])}\n`);
      process.exitCode = EXIT.OK;
      return true;
    }
    resolveCommand(k.plugins(), name);
    const ac = new AbortController();
    let signals = 0;
    let exitOnSignal = 130;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      exitOnSignal = signal === 'SIGTERM' ? 143 : 130;
      if (signals > 1) process.exit(exitOnSignal);
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const r = await runPluginCommand(k, name, argv, {
        json,
        print: (text) => process.stdout.write(`${text}\n`),
        error: (text) => process.stderr.write(`${text}\n`),
        signal: ac.signal,
      });
      process.exitCode = r.interrupted ? exitOnSignal : r.exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return true;
  } catch (err) {
    if (!handled) throw err;
    process.exitCode = printError(err, json);
    return true;
  } finally {
    const { unsettled } = await k.close();
    for (const u of unsettled) process.stderr.write(`warning: ${u} never settled before shutdown\n`);
  }
}

/** `caduceus <name> --help` and `caduceus <name> <sub> --help`, from the manifest alone. */
function usage(e: CommandEntry, sub: string | undefined): string {
  const d = e.declaration;
  const one = d.subcommands.find((s) => s.name === sub);
  if (one) return `Usage: caduceus ${one.usage ?? `${d.name} ${one.name}`}\n\n${one.description}\n\n(served by plugin '${e.plugin}'${e.enabled ? '' : ', which is disabled'})`;
  const lines = [`Usage: caduceus ${d.name} ${d.subcommands.length ? '<subcommand> ' : ''}[args...] [--json]`, '', d.description];
  if (d.subcommands.length) {
    lines.push('', 'Subcommands:');
    const width = Math.max(...d.subcommands.map((s) => s.name.length));
    for (const s of d.subcommands) lines.push(`  ${s.name.padEnd(width)}  ${s.description}${s.usage ? ` (caduceus ${s.usage})` : ''}`);
  }
  lines.push('', `Served by plugin '${e.plugin}'${e.enabled ? '' : `, which is disabled: caduceus plugins enable ${e.plugin}`}.`);
  return lines.join('\n');
}

/** The "Plugin commands" part of `caduceus --help`: reads manifests only; empty when there are none. */
export async function helpText(): Promise<string> {
  const k = openKernel();
  try {
    const { byName, conflicts } = commandTable(k.plugins());
    if (byName.size === 0) return '';
    const conflicted = new Set(conflicts.map((x) => x.name));
    const rows = [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, entries]) => {
      const enabled = entries.filter((e) => e.enabled);
      const e = enabled[0] ?? entries[0]!;
      const note = conflicted.has(name) ? ` (conflict: ${enabled.map((x) => x.plugin).join(' and ')}; disable one)`
        : enabled.length === 0 ? ` (plugin '${e.plugin}' is disabled)` : ` (plugin '${e.plugin}')`;
      return [name, `${e.declaration.description}${c.dim(note)}`];
    });
    const width = Math.max(...rows.map(([n]) => n!.length));
    return `\nPlugin commands:\n${rows.map(([n, d]) => `  ${n!.padEnd(width)}  ${d}`).join('\n')}\n`;
  } finally {
    await k.close();
  }
}
