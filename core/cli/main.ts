/**
 * The `caduceus` command. Command definitions live here; each action imports its implementation on
 * demand so `caduceus tools list` loads neither zod, ajv nor isolated-vm.
 */
import type { Command as CommandType } from 'commander';
import { CADUCEUS_VERSION } from '../version.js';
import { EXIT, printError } from './output.js';

/**
 * The listings agents and scripts run most often skip the argument parser: commander pulls in
 * child_process and friends, which cost ≈17 ms of start-up without a V8 snapshot. Anything else,
 * including these commands with other flags or --help, goes through commander as usual.
 */
const FAST_PATHS: Record<string, () => Promise<(opts: { json?: boolean }) => Promise<number>>> = {
  'tools list': async () => (await import('./tools.js')).list,
  'plugins list': async () => (await import('./plugins.js')).list,
};

async function fastPath(args: string[]): Promise<boolean> {
  const json = args.length === 3 && args[2] === '--json';
  if (args.length !== 2 && !json) return false;
  const load = FAST_PATHS[`${args[0]} ${args[1]}`];
  if (!load) return false;
  try {
    process.exitCode = await (await load())({ json });
  } catch (err) {
    process.exitCode = printError(err, json);
  }
  return true;
}

function run<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<number>>) {
  return async (...args: A) => {
    const opts = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && typeof (a as { parseAsync?: unknown }).parseAsync !== 'function') as { json?: boolean } | undefined;
    try {
      const fn = await load();
      process.exitCode = await fn(...args);
    } catch (err) {
      process.exitCode = printError(err, opts?.json === true);
    }
  };
}

export async function main(argv: string[]): Promise<void> {
  if (await fastPath(argv.slice(2))) return;
  const { Command, CommanderError } = await import('commander');
  const program: CommandType = new Command('caduceus')
    .description('A plugin-host microkernel for AI agents: sandboxed plugins, typed hooks, audited tool calls.')
    .version(CADUCEUS_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const plugins = program.command('plugins').description('install, enable, grant and remove plugins');
  plugins.command('list').description('list installed plugins (reads manifests only)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).list));
  plugins.command('info <id>').description('show a plugin, its permissions and tools').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).info));
  plugins.command('install <source>').description('install from a folder, a .tgz or an npm spec (install scripts never run)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).install));
  plugins.command('enable <id>').description('enable a plugin, granting the permissions it requests after consent')
    .option('-y, --yes', 'grant the requested permissions without asking').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).enable));
  plugins.command('disable <id>').description('disable a plugin (its grants are kept)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).disable));
  plugins.command('remove <id>').description('remove a plugin, its grants and its kv data').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).remove));
  plugins.command('grant <id> <permissions...>').description('grant permissions the plugin requests').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).grant));
  plugins.command('revoke <id> <permissions...>').description('revoke granted permissions').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).revoke));

  const tools = program.command('tools').description('list and call tools');
  tools.command('list').description('list tools with their live status (starts no plugin)')
    .option('--json', 'machine-readable output (full descriptors)')
    .option('--for-model', 'only what a model is shown (runs the resolveTools hook)')
    .action(run(async () => (await import('./tools.js')).list));
  tools.command('call <name> [args]').description('call a tool through the full pipeline as the operator; args is one JSON object')
    .option('--json', 'print the result envelope as JSON')
    .action(run(async () => (await import('./tools.js')).call));

  program.command('doctor').description('check every plugin and tool, and say how to fix what is wrong').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./doctor.js')).doctor));

  const audit = program.command('audit').description('read the audit log');
  audit.command('tail').description('show the newest audit rows')
    .option('-n, --lines <n>', 'how many rows', '20').option('--plugin <id>', 'only rows of this plugin').option('--kind <kind>', 'only rows of this kind')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./audit.js')).tail));

  const plugin = program.command('plugin').description('plugin authoring');
  plugin.command('build [dir]').description('bundle a plugin and generate its manifest tool descriptors')
    .option('--check', 'fail if the manifest on disk is out of date instead of writing it').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./author.js')).build));

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    process.exitCode = printError(err, false);
  }
}

