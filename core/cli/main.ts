/**
 * The `caduceus` command. Command definitions live here; each action imports its implementation on
 * demand so `caduceus tools list` loads neither zod, ajv nor isolated-vm.
 */
import type { Command as CommandType } from 'commander';
import { CADUCEUS_VERSION } from '../version.js';
import { EXIT, printError } from './output.js';
import { BUILTIN_COMMANDS } from '../commands.js';

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
  // `caduceus <name> ...` for a name no built-in has: a command an installed plugin contributes, if any
  // (core/commands.ts). Names nobody contributes fall through to commander's unknown-command error.
  const first = argv[2];
  if (first !== undefined && !first.startsWith('-') && !BUILTIN_COMMANDS.has(first)) {
    if (await (await import('./plugin-command.js')).dispatch(argv.slice(2))) return;
  }
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
  plugins.command('grants <id>').description('every permission the plugin requests, in plain words, whether it is granted, and grants that lapsed')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./plugins.js')).grants));

  const tools = program.command('tools').description('list and call tools');
  tools.command('list').description('list tools with their live status (starts no plugin)')
    .option('--json', 'machine-readable output (full descriptors)')
    .option('--for-model', 'only what a model is shown (runs the resolveTools hook)')
    .action(run(async () => (await import('./tools.js')).list));
  tools.command('call <name> [args]').description('call a tool through the full pipeline as the operator; args is one JSON object')
    .option('--json', 'print the result envelope as JSON')
    .option('--session <id>', 'run the call as part of this agent session (tools with per-session state use it)')
    .action(run(async () => (await import('./tools.js')).call));

  const mcp = program.command('mcp').description('external MCP servers as tools (mcpServers in config.json), and serving Caduceus tools over MCP');
  mcp.command('list').description('configured MCP servers and their cached tool lists (connects nothing)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).list));
  mcp.command('add <name> [command...]').description('add a server: `mcp add <name> -- <command> [args…]` (stdio) or `mcp add <name> --url <url>` (Streamable HTTP); connects once to list its tools')
    .option('--url <url>', 'a Streamable HTTP endpoint instead of a command')
    .option('-e, --env <KEY=VALUE...>', 'environment for a stdio server (VALUE may be ${secret:NAME} or ${env:NAME}); nothing else of yours is passed on')
    .option('-H, --header <header...>', 'HTTP headers for a url server, as "Name: value" (values may use ${secret:NAME})')
    .option('--cwd <dir>', 'working directory of a stdio server')
    .option('--timeout <ms>', 'per-request timeout in milliseconds (default 60000)')
    .option('--include <tool...>', 'serve only these tools (names or * globs); wins over --exclude')
    .option('--exclude <tool...>', 'do not serve these tools')
    .option('--disabled', 'add it disabled')
    .option('--force', 'replace a server of the same name')
    .option('--no-connect', 'do not connect now (its tools are listed on first use or by `mcp test`)')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).add));
  mcp.command('remove <name>').description('remove a server and its cached tools').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).remove));
  mcp.command('enable <name>').description('enable a server').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).enable));
  mcp.command('disable <name>').description('disable a server: its tools list as disabled and it is never started').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).disable));
  mcp.command('test <name>').description('connect to a server, list its tools (refreshing the cache) and disconnect; exit 1 if it fails')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).test));
  mcp.command('import <file>').description('import mcpServers from a claude_desktop_config.json (or any file with an mcpServers object)')
    .option('--force', 'replace servers that already exist').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./mcp.js')).importConfig));
  mcp.command('serve').description('serve Caduceus tools to MCP clients over stdio, or Streamable HTTP on 127.0.0.1 with a bearer token')
    .option('--http <port>', 'Streamable HTTP on 127.0.0.1:<port>/mcp (0 = any free port); the token comes from CADUCEUS_MCP_TOKEN, mcpServe.token, or is generated and printed')
    .action(run(async () => (await import('./mcp.js')).serve));

  program.command('run <prompt>').description('one agent turn: the model answers, calling sandboxed tools as it needs; exit 0 when it answered')
    .option('-m, --model <provider/model>', 'the model, e.g. openai/gpt-4o-mini (default: "model" in config.json, CADUCEUS_MODEL, or the first configured provider)')
    .option('--max-iterations <n>', 'model calls allowed in the turn (default 20)')
    .option('--resume <session>', 'continue a saved session')
    .option('--json', 'print one JSON object with the answer, session id and usage')
    .action(run(async () => (await import('./run.js')).run));
  program.command('chat').description('interactive agent session: streamed answers, tool progress, slash commands, Ctrl-C cancels a turn')
    .option('-m, --model <provider/model>', 'the model (see `caduceus run --help`)')
    .option('--resume <session>', 'continue a saved session (`caduceus sessions list`)')
    .option('--max-iterations <n>', 'model calls allowed per turn (default 20)')
    .action(run(async () => (await import('./chat.js')).chat));
  const sessions = program.command('sessions').description('saved agent sessions: every turn, tool call and token count');
  sessions.command('list').description('list sessions, newest first').option('--json', 'machine-readable output').option('-n, --limit <n>', 'how many', '50')
    .action(run(async () => (await import('./sessions.js')).list));
  sessions.command('show <id>').description('show a session\'s conversation').option('--json', 'everything, machine-readable').option('--call <callId>', 'print the full result of one tool call')
    .action(run(async () => (await import('./sessions.js')).show));
  sessions.command('export [ids...]').description('export sessions as ShareGPT-style JSONL trajectories, secrets redacted').option('--all', 'every session').option('-o, --out <file>', 'write to a file (mode 600) instead of stdout')
    .action(run(async () => (await import('./sessions.js')).exportSessions));
  program.command('providers').description('LLM providers of enabled plugins, and whether each is configured').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./providers.js')).providers));

  program.command('types').description('write a .d.ts that types ctx.tools.call for the tools of installed plugins (reads manifests only)')
    .option('-o, --out <file>', 'the .d.ts to write', 'caduceus-tools.d.ts')
    .option('--plugin <id...>', 'only the tools of these plugins')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./types.js')).types));

  program.command('doctor').description('check every plugin and tool, and say how to fix what is wrong').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./doctor.js')).doctor));

  const guards = program.command('guards').description("test values against the host's guards and your security config");
  guards.command('check <kind> <value>')
    .description('what the guards decide about a command, url, path or text (value "-" reads stdin); exits 0 if it passes, 1 if refused, dangerous or needing approval')
    .option('--json', 'print { kind, value, verdict, rule, reason, details }')
    .action(run(async () => (await import('./guards.js')).check));

  const audit = program.command('audit').description('read, verify and export the audit log');
  audit.command('tail').description('show the newest audit rows')
    .option('-n, --lines <n>', 'how many rows', '20').option('--plugin <id>', 'only rows of this plugin').option('--kind <kind>', 'only rows of this kind')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./audit.js')).tail));
  audit.command('verify').description('check the audit hash chain; names the first edited, deleted or reordered row')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./audit.js')).verify));
  audit.command('export').description('write every audit row with its chain hashes, one JSON object per line')
    .option('--jsonl', 'JSON lines (the default, and so far the only format)')
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .option('--since <seq>', 'only rows after this seq, e.g. the last seq of an earlier export')
    .action(run(async () => (await import('./audit.js')).exportRows));

  const secrets = program.command('secrets').description('store named secrets that plugins read with a secret:<NAME> grant');
  secrets.command('set <name>').description('store a secret; the value is read from stdin (not echoed at a terminal)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./secrets.js')).set));
  secrets.command('list').description('list secret names and which plugins may read each (never values)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./secrets.js')).list));
  secrets.command('remove <name>').description('delete a secret').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./secrets.js')).remove));

  const approvals = program.command('approvals').description('approvals remembered with "always"');
  approvals.command('list').description('list remembered approvals').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./approvals.js')).list));
  approvals.command('forget <kind> <subject>').description('forget one (kind: tool or command; subject as listed) so it is asked again').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./approvals.js')).forget));

  const plugin = program.command('plugin').description('plugin authoring');
  plugin.command('build [dir]').description('bundle a plugin and generate its manifest tool descriptors')
    .option('--check', 'fail if the manifest on disk is out of date instead of writing it').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./author.js')).build));
  plugin.command('new <name>').description('scaffold a plugin folder: manifest, src/index.ts with one tool, a test and a README')
    .option('--dir <path>', 'write here instead of ./<name>').option('--description <text>', 'one line for the manifest and package.json')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./author.js')).scaffold));
  plugin.command('pack [dir]').description('build, then make the .tgz that `plugins install` and `npm publish` take')
    .option('--out <dir>', 'where to write the tarball (default: the plugin folder)').option('--json', 'machine-readable output')
    .action(run(async () => (await import('./author.js')).pack));
  plugin.command('test [dir]').description("build, then run the plugin's tests (node --test) against a real sandbox")
    .option('--json', 'TAP output from the test runner')
    .action(run(async () => (await import('./author.js')).test));
  plugin.command('dev [dir]').description('install and run a plugin, rebuild and hot-reload it on every change; call tools from stdin')
    .option('-y, --yes', 'grant the permissions the plugin requests (now and when a rebuild asks for more)')
    .option('--json', 'one JSON line per event and result')
    .action(run(async () => (await import('./author.js')).dev));

  const rest = argv.slice(2);
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' || (rest[0] === 'help' && rest.length === 1)) {
    const listed = await (await import('./plugin-command.js')).helpText();
    if (listed) program.addHelpText('after', listed);
  }

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

