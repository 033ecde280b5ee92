/**
 * The one table of stable error codes. Every failure the kernel reports carries a code from here,
 * `CAD_ERR_<AREA>_<WHAT>`, grouped by area and never reused. `docs/errors.md` documents each one and a
 * test keeps the two in step. Callers match errors by `code`, never by `instanceof`: errors copied out of
 * an isolate lose their prototype.
 */

export const ERRORS = {
  // manifest
  CAD_ERR_MANIFEST_NOT_FOUND: { meaning: 'No caduceus.plugin.json in the plugin folder.', fix: 'Point at the folder that holds caduceus.plugin.json, or build the plugin first.' },
  CAD_ERR_MANIFEST_JSON: { meaning: 'caduceus.plugin.json is not valid JSON.', fix: 'Fix the JSON syntax at the reported line and column.' },
  CAD_ERR_MANIFEST_SCHEMA: { meaning: 'The manifest does not match manifest schema v1.', fix: 'Correct the named field; the schema is manifests/plugin-manifest.v1.schema.json.' },
  CAD_ERR_MANIFEST_ENGINE: { meaning: 'The manifest engines.caduceus range excludes this Caduceus version (or is "*").', fix: 'Install a plugin version built for this Caduceus, or widen engines.caduceus to a range that includes it.' },
  CAD_ERR_MANIFEST_SDK: { meaning: 'The plugin was built with a caduceus/sdk version this Caduceus does not support.', fix: 'Rebuild the plugin with a supported SDK (`caduceus plugin build` from this Caduceus), or install a matching Caduceus.' },
  CAD_ERR_MANIFEST_MAIN: { meaning: 'The manifest main file is missing or resolves outside the plugin folder.', fix: 'Build the plugin so main exists, and keep main a relative path inside the folder.' },
  // dependencies
  CAD_ERR_DEPENDENCY_MISSING: { meaning: 'A plugin named in requires.plugins is not installed or not enabled.', fix: 'Install and enable the required plugin first.' },
  CAD_ERR_DEPENDENCY_VERSION: { meaning: 'A required plugin is installed at a version outside the requested range.', fix: 'Upgrade or downgrade the required plugin to a matching version.' },
  CAD_ERR_DEPENDENCY_CYCLE: { meaning: 'Plugins require each other in a cycle.', fix: 'Remove one requires.plugins edge so the dependency graph has no cycle.' },
  CAD_ERR_DEPENDENCY_DEPENDENT: { meaning: 'Another enabled plugin requires the plugin being disabled or removed.', fix: 'Disable or remove the dependent plugin first.' },
  // permissions
  CAD_ERR_PERMISSION_INVALID: { meaning: 'A permission string is malformed or of an unknown kind.', fix: 'Use one of: kv, wasm, net:<host>, fs.read:<path>, fs.write:<path>, env:<NAME>, tools.call:<tool>.' },
  CAD_ERR_PERMISSION_NOT_REQUESTED: { meaning: 'A grant names a permission the plugin manifest does not request.', fix: 'Grant only permissions listed by `caduceus plugins info <id>`.' },
  CAD_ERR_PERMISSION_CONSENT_REQUIRED: { meaning: 'Enabling needs consent to the requested permissions and tapped hooks, and it was refused or nothing could ask.', fix: 'Re-run interactively, or pass --yes to grant what is shown.' },
  CAD_ERR_SECRET_INVALID: { meaning: 'A secret name is malformed, or its value is empty or too large.', fix: 'Use a name like OPENAI_API_KEY and pass a non-empty value on stdin.' },
  CAD_ERR_PERMISSION_DENIED: { meaning: 'A plugin called a syscall its grants do not cover; nothing happened.', fix: 'Grant the permission with `caduceus plugins grant <id> <permission>` if the plugin should have it.' },
  // integrity
  CAD_ERR_INTEGRITY_MISMATCH: { meaning: 'The plugin bundle changed since it was installed; it refuses to load.', fix: 'Reinstall the plugin from a trusted source with `caduceus plugins install`.' },
  // install
  CAD_ERR_INSTALL_SOURCE: { meaning: 'The install source is not a plugin folder, a .tgz file or an npm spec that exists.', fix: 'Check the path or package name.' },
  CAD_ERR_INSTALL_TARBALL_UNSAFE: { meaning: 'The tarball holds an entry that would land outside the staging folder (absolute, .., or a link).', fix: 'Do not install it; rebuild the tarball with `npm pack` from a clean folder.' },
  CAD_ERR_INSTALL_TARBALL_INVALID: { meaning: 'The tarball cannot be read or holds no plugin.', fix: 'Make the tarball with `npm pack` from a folder that holds caduceus.plugin.json.' },
  CAD_ERR_INSTALL_NPM: { meaning: '`npm pack` could not fetch the npm spec.', fix: 'Check the package name and version, and that the npm registry is reachable.' },
  CAD_ERR_INSTALL_BUNDLED: { meaning: 'The plugin id belongs to a plugin bundled with Caduceus.', fix: 'Choose another id for your plugin.' },
  // plugins
  CAD_ERR_PLUGIN_NOT_FOUND: { meaning: 'No installed plugin has that id.', fix: 'Run `caduceus plugins list` to see installed ids.' },
  CAD_ERR_PLUGIN_DISABLED: { meaning: 'The plugin is installed but disabled.', fix: 'Run `caduceus plugins enable <id>`.' },
  CAD_ERR_PLUGIN_STRUCK_OUT: { meaning: 'The plugin crashed or timed out repeatedly and was disabled for this kernel run.', fix: 'Read `caduceus audit tail` for the failures, fix or remove the plugin, then restart.' },
  CAD_ERR_PLUGIN_LOAD_FAILED: { meaning: 'The plugin bundle threw or did not export a plugin while loading.', fix: 'Run the plugin tests; the bundle must export default definePlugin(...).' },
  CAD_ERR_PLUGIN_BUNDLED: { meaning: 'Bundled plugins cannot be removed, only disabled.', fix: 'Run `caduceus plugins disable <id>`.' },
  // registry
  CAD_ERR_REGISTRY_DUPLICATE: { meaning: 'Two plugins contribute a capability with the same name.', fix: 'Disable or remove one of the two plugins named, or rename the tool.' },
  CAD_ERR_REGISTRY_UNDECLARED: { meaning: 'A plugin registered a tool or hook its manifest does not declare.', fix: 'Rebuild the plugin so contributes lists everything the code registers.' },
  CAD_ERR_REGISTRY_MISSING: { meaning: 'The manifest declares a tool the plugin code does not register.', fix: 'Rebuild the plugin so contributes matches the code.' },
  // plugin commands (`caduceus <name> ...` served by a plugin)
  CAD_ERR_COMMAND_RESERVED: { meaning: 'A plugin contributes a CLI command whose name a built-in caduceus command already uses.', fix: 'Rename the command in defineCommand and rebuild; built-in names are listed in docs/writing-plugins.md.' },
  CAD_ERR_COMMAND_NOT_FOUND: { meaning: 'No built-in command and no installed plugin provides the command.', fix: 'Run `caduceus --help` for the commands there are, or install the plugin that provides it.' },
  CAD_ERR_COMMAND_FAILED: { meaning: 'A plugin command threw, returned something that is not an exit code, or its isolate failed.', fix: 'Read the message; it comes from the plugin that owns the command.' },
  // sandbox
  CAD_ERR_SANDBOX_TIMEOUT: { meaning: 'Plugin code ran past its time limit; its isolate was disposed.', fix: 'Make the handler finish within timeoutMs, or raise timeoutMs in the tool descriptor.' },
  CAD_ERR_SANDBOX_MEMORY: { meaning: 'Plugin code exceeded its isolate memory limit; its isolate was disposed.', fix: 'Use less memory, or raise sandbox.memoryMb in the manifest.' },
  CAD_ERR_SANDBOX_CRASHED: { meaning: 'The plugin isolate died; it restarts with backoff.', fix: 'Read `caduceus audit tail` for the cause.' },
  CAD_ERR_SANDBOX_RESULT_TOO_LARGE: { meaning: 'A tool result exceeded the descriptor maxResultBytes and was refused.', fix: 'Return less data, or raise maxResultBytes in the tool descriptor.' },
  CAD_ERR_SANDBOX_PROTOCOL: { meaning: 'The isolate answered something the kernel did not ask for or cannot read.', fix: 'Build the plugin with the Caduceus SDK; do not call kernel bridge functions directly.' },
  // tools
  CAD_ERR_TOOL_NOT_FOUND: { meaning: 'No enabled plugin or MCP server contributes a tool with that name.', fix: 'Run `caduceus tools list` to see tool names.' },
  CAD_ERR_TOOL_UNAVAILABLE: { meaning: 'The tool exists but cannot run here now (see its status reason).', fix: 'Follow the fix shown by `caduceus doctor`.' },
  CAD_ERR_TOOL_ARGS_JSON: { meaning: 'The tool arguments are not valid JSON.', fix: "Quote the arguments as one JSON object, e.g. '{\"name\":\"Ada\"}'." },
  CAD_ERR_TOOL_ARGS_INVALID: { meaning: 'The tool arguments do not match the tool inputSchema.', fix: 'Fix the named field; `caduceus tools list --json` shows the schema.' },
  CAD_ERR_TOOL_RESULT_INVALID: { meaning: 'The tool returned a result that does not match its resultSchema.', fix: 'Fix the plugin handler so it returns what its schema promises.' },
  CAD_ERR_TOOL_FAILED: { meaning: 'The tool handler threw; the message is the plugin own.', fix: 'Read the message; it comes from the plugin.' },
  CAD_ERR_TOOL_DENIED: { meaning: 'A guard on beforeToolCall denied the call.', fix: 'Read the reason; change the guard configuration if the call should be allowed.' },
  CAD_ERR_TOOL_TRUST: { meaning: 'The caller trust class may not invoke this tool.', fix: 'Call it from a caller listed in the tool trustClasses.' },
  // hooks
  CAD_ERR_HOOK_TIMEOUT: { meaning: 'A plugin hook handler did not settle within its time limit.', fix: 'Make the handler faster; beforeToolCall fails closed, so the call was denied.' },
  CAD_ERR_HOOK_FAILED: { meaning: 'A plugin hook handler threw or returned a value of the wrong shape.', fix: 'Fix the plugin hook handler; the message names it.' },
  // syscalls
  CAD_ERR_SYSCALL_UNKNOWN: { meaning: 'A plugin called a syscall that does not exist.', fix: 'Use the host API from caduceus/sdk.' },
  CAD_ERR_SYSCALL_INVALID: { meaning: 'A syscall got arguments of the wrong shape or size.', fix: 'Pass the arguments the host API documents.' },
  CAD_ERR_EXEC_HARDLINE: { meaning: 'The exec syscall refused a hardline command (deleting / or home, mkfs, a fork bomb, shutdown, …); these never run.', fix: 'Do not run it; nothing can allow it.' },
  CAD_ERR_EXEC_DENIED: { meaning: 'The exec syscall refused a command: a deny glob, allowlist mode, or a dangerous command without approval.', fix: 'Approve it when asked, or add a glob to security.commands.allow in config.json.' },
  CAD_ERR_NET_BLOCKED: { meaning: 'net.fetch refused the URL: scheme, an internal address without an exact grant, a metadata endpoint, a host on security.blockedDomains, or too many redirects.', fix: 'Grant net:<host> for public hosts; private addresses need the exact host granted; metadata addresses are never allowed; a blocked host needs its entry removed from security.blockedDomains in config.json.' },
  CAD_ERR_NET_FAILED: { meaning: 'net.fetch could not complete the request.', fix: 'Check that the host is reachable.' },
  CAD_ERR_FS_OUTSIDE_ROOT: { meaning: 'A path resolves outside the granted roots (.., or a symlink escape).', fix: 'Use a path inside a granted root, or grant fs.read:<dir> / fs.write:<dir>.' },
  CAD_ERR_FS_PROTECTED: { meaning: 'The path is a credential or Caduceus store file that plugins may never write.', fix: 'Write somewhere else.' },
  CAD_ERR_FS_FAILED: { meaning: 'The file operation failed (not found, not a file, too large).', fix: 'Check the path; the message says what failed.' },
  CAD_ERR_KV_LIMIT: { meaning: 'A kv key or value exceeded its size limit.', fix: 'Keys are at most 512 bytes, values at most 1 MiB.' },
  CAD_ERR_PROCESS_NOT_FOUND: { meaning: 'The plugin has no background process with that id (it never existed, was started by another caduceus process, or was forgotten after it ended).', fix: 'List the processes (ctx.processes.list(), or the process tool with action "list") and use an id from there.' },
  CAD_ERR_PROCESS_LIMIT: { meaning: 'The plugin already runs the most background processes one plugin may run at once (8).', fix: 'Kill one it no longer needs, or wait for one to exit.' },
  // build (caduceus plugin build)
  CAD_ERR_BUILD_BUNDLE: { meaning: 'The plugin source could not be bundled, or the bundle does not export a plugin made with definePlugin/defineTool.', fix: 'Fix the error esbuild or the loader reports; the entry must `export default definePlugin(...)`.' },
  CAD_ERR_BUILD_UNSANDBOXABLE: { meaning: 'The plugin imports a Node module (fs, child_process, …) that cannot run in the sandbox.', fix: 'Use the host API the message names (ctx.fs, ctx.fetch, ctx.env) instead of the Node module.' },
  CAD_ERR_BUILD_STALE: { meaning: '`caduceus plugin build --check` found the manifest out of date with the code.', fix: 'Run `caduceus plugin build` and commit the regenerated caduceus.plugin.json.' },
  CAD_ERR_BUILD_SCHEMA: { meaning: 'A tool input or output zod schema uses a type that has no JSON Schema equivalent (a date, bigint, transform, function, …).', fix: 'Use a JSON-representable type, e.g. z.string() with .describe("ISO 8601 date") instead of z.date().' },
  CAD_ERR_BUILD_DUPLICATE_TOOL: { meaning: 'Two tools in one plugin have the same name.', fix: 'Rename one of them; tool names must be unique across all plugins.' },
  // authoring (caduceus plugin new|pack|dev)
  CAD_ERR_SCAFFOLD_NAME: { meaning: 'The name given to `caduceus plugin new` is not a valid plugin id.', fix: 'Use lowercase letters, digits and dashes, starting with a letter.' },
  CAD_ERR_SCAFFOLD_EXISTS: { meaning: 'The folder `caduceus plugin new` would write already exists and is not empty.', fix: 'Choose another name, or pass --dir with an empty folder.' },
  CAD_ERR_PACK_FAILED: { meaning: '`caduceus plugin pack` could not make a tarball that installs.', fix: 'Read the message: add a package.json, or list caduceus.plugin.json and the bundle in the files field of package.json.' },
  // providers and the runner
  CAD_ERR_PROVIDER_NOT_CONFIGURED: { meaning: 'No LLM provider is configured, or the one named in --model / the config is not served by an enabled plugin.', fix: 'Set OPENAI_API_KEY or ANTHROPIC_API_KEY (or store it with `caduceus secrets set`), or pass --model <provider>/<model> naming a provider `caduceus providers` lists.' },
  CAD_ERR_PROVIDER_AUTH: { meaning: 'The provider rejected the credentials (HTTP 401/403).', fix: 'Check the API key the message names; set it again with `caduceus secrets set <NAME>` or the environment variable.' },
  CAD_ERR_PROVIDER_RATE_LIMIT: { meaning: 'The provider is rate limiting (HTTP 429) and the retries ran out.', fix: 'Wait and try again, or lower the request rate; Retry-After was honoured.' },
  CAD_ERR_PROVIDER_CONTEXT_LENGTH: { meaning: 'The conversation no longer fits the model context window.', fix: 'Start a new session, or use a model with a larger context window.' },
  CAD_ERR_PROVIDER_INVALID_REQUEST: { meaning: 'The provider refused the request as invalid (HTTP 4xx), or the provider plugin may not reach the configured host.', fix: 'Read the provider message; for a host that is not granted, grant it with `caduceus plugins grant <plugin> net:<host>`.' },
  CAD_ERR_PROVIDER_SERVER: { meaning: 'The provider failed on its side (HTTP 5xx, overloaded) and the retries ran out.', fix: 'Try again later.' },
  CAD_ERR_PROVIDER_NETWORK: { meaning: 'The connection to the provider failed or broke mid-stream, and the retries ran out.', fix: 'Check the base URL and that the server is reachable.' },
  CAD_ERR_PROVIDER_CANCELLED: { meaning: 'The model call was cancelled (Ctrl-C).', fix: 'Nothing to fix; ask again.' },
  CAD_ERR_PROVIDER_FAILED: { meaning: 'The provider plugin failed in a way that is not a provider error (a bug, a crash, a timeout of its isolate).', fix: 'Read `caduceus audit tail --plugin <id>`; report it to the plugin author.' },
  CAD_ERR_PROVIDER_EVENT_INVALID: { meaning: 'A provider plugin emitted an event that is not a ChatEvent.', fix: 'Fix the provider plugin; the message names the wrong field.' },
  CAD_ERR_RUN_MAX_ITERATIONS: { meaning: 'The agent loop reached its iteration limit before the model gave a final answer.', fix: 'Raise --max-iterations (or runner.maxIterations in config.json), or ask for less at once.' },
  CAD_ERR_SESSION_NOT_FOUND: { meaning: 'No saved session has that id.', fix: 'Run `caduceus sessions list` to see session ids.' },
  // mcp (core/mcp/: external MCP servers as tools, and `caduceus mcp serve`)
  CAD_ERR_MCP_CONFIG: { meaning: 'An mcpServers entry in config.json is invalid, or names a secret or variable that is not set.', fix: 'Fix the field the message names under mcpServers.<server> in $CADUCEUS_HOME/config.json.' },
  CAD_ERR_MCP_SERVER_NOT_FOUND: { meaning: 'No MCP server with that name is configured.', fix: 'Run `caduceus mcp list`; add it with `caduceus mcp add <name> -- <command>`.' },
  CAD_ERR_MCP_SERVER_EXISTS: { meaning: 'An MCP server with that name is already configured.', fix: 'Pick another name, or pass --force to replace it.' },
  CAD_ERR_MCP_IMPORT: { meaning: 'The file given to `caduceus mcp import` cannot be read, is not JSON, or holds no mcpServers.', fix: 'Point it at a claude_desktop_config.json (or another file with an mcpServers object).' },
  CAD_ERR_MCP_CONNECT: { meaning: 'An MCP server could not be started, reached or initialised.', fix: 'Run `caduceus mcp test <server>`; check its command, args, env or url, and its log under $CADUCEUS_HOME/logs/mcp/.' },
  CAD_ERR_MCP_TIMEOUT: { meaning: 'An MCP server did not answer a request within its timeout.', fix: 'Raise mcpServers.<server>.timeout (ms) if it is just slow, or check the server.' },
  CAD_ERR_MCP_SERVER_EXITED: { meaning: 'An MCP server closed the connection (its process exited) during a call; it restarts with backoff.', fix: 'Read its log under $CADUCEUS_HOME/logs/mcp/; retry the call.' },
  CAD_ERR_MCP_REQUEST_FAILED: { meaning: 'An MCP server refused or failed a request with a protocol error.', fix: 'Read the server message; `caduceus mcp test <server>` shows its tools and their schemas.' },
  CAD_ERR_MCP_UNAUTHORIZED: { meaning: 'A request to `caduceus mcp serve --http` had no valid bearer token, or came with a Host or Origin that is not local.', fix: 'Send Authorization: Bearer <token> (printed at start, or CADUCEUS_MCP_TOKEN / mcpServe.token) to http://127.0.0.1:<port>/mcp.' },
  CAD_ERR_MCP_SERVE_FAILED: { meaning: '`caduceus mcp serve` could not start (the port is taken, or the token is too short).', fix: 'Choose another --http port, or set a token of at least 16 characters.' },
  // audit
  CAD_ERR_AUDIT_TAMPERED: { meaning: 'The audit hash chain does not verify: a row was edited, deleted or reordered after it was written.', fix: 'Export the log with `caduceus audit export --jsonl`, compare the named row with an earlier export or a backup of caduceus.db, and find out who could write the store.' },
  // config, store, cli
  CAD_ERR_CONFIG_INVALID: { meaning: 'The Caduceus config file or a plugin config is invalid.', fix: 'Fix the named field in $CADUCEUS_HOME/config.json.' },
  CAD_ERR_STORE_VERSION: { meaning: 'The store was written by a newer Caduceus.', fix: 'Upgrade Caduceus, or point CADUCEUS_HOME at another folder.' },
  CAD_ERR_CLI_USAGE: { meaning: 'The command line is incomplete or wrong.', fix: 'Run the command with --help.' },
  CAD_ERR_CLI_OUTPUT: { meaning: 'A command could not write its output file, or refused to overwrite a file it did not write.', fix: 'Point --out at a new file, or at one the same command wrote, in a folder you can write to.' },
} as const satisfies Record<string, { meaning: string; fix: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Context carried by every coded error, so messages and audit rows can name who failed. */
export interface ErrorContext {
  plugin?: string;
  tool?: string;
  hook?: string;
  /** A plugin's own error text, kept when the kernel wraps it (wrapped exactly once). */
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class CaduceusError extends Error {
  readonly code: ErrorCode;
  readonly plugin: string | undefined;
  readonly tool: string | undefined;
  readonly hook: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'CaduceusError';
    this.code = code;
    this.plugin = context.plugin;
    this.tool = context.tool;
    this.hook = context.hook;
    this.details = context.details;
  }

  /** The plain shape that crosses process and isolate boundaries and goes into audit rows. */
  toJSON(): CodedErrorShape {
    const out: CodedErrorShape = { code: this.code, message: this.message };
    if (this.plugin !== undefined) out.plugin = this.plugin;
    if (this.tool !== undefined) out.tool = this.tool;
    if (this.hook !== undefined) out.hook = this.hook;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export interface CodedErrorShape {
  code: ErrorCode;
  message: string;
  plugin?: string;
  tool?: string;
  hook?: string;
  details?: Record<string, unknown>;
}

/** True for anything carrying one of our codes, whatever its prototype. */
export function isCoded(value: unknown): value is CodedErrorShape {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string'
    && (value as { code: string }).code in ERRORS;
}

export function fixFor(code: ErrorCode): string {
  return ERRORS[code].fix;
}
