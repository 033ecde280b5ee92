/**
 * Permission strings: the one vocabulary shared by manifests (the requested ceiling), the store (grants)
 * and the CLI (`caduceus plugins grant hello net:api.example.com`). A plugin gets a syscall only when a
 * grant in the store covers it, and a grant only counts when the manifest requests it too.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';

export type Permission =
  | { kind: 'kv'; raw: string }
  | { kind: 'wasm'; raw: string }
  | { kind: 'exec'; raw: string }
  | { kind: 'net'; raw: string; host: string }
  | { kind: 'fs.read' | 'fs.write'; raw: string; path: string }
  | { kind: 'env'; raw: string; name: string }
  | { kind: 'secret'; raw: string; name: string }
  | { kind: 'tools.call'; raw: string; tool: string }
  | { kind: 'emit'; raw: string; hook: string };

const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;
const IPV6_HOST = /^\[[0-9a-f:.]+\](:\d{1,5})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const PATH_VARS = ['$WORKSPACE', '$HOME', '$PLUGIN_DATA', '$CADUCEUS_HOME'] as const;
/**
 * `fs.read:$PLUGIN_SKILLS` covers exactly the skill folders enabled plugins ship (`contributes.skills`),
 * wherever they are installed; it is read-only and takes no sub-path. expandGrantPath turns it into this
 * marker, which can match no real path, and the syscalls replace it with the folders themselves.
 */
export const PLUGIN_SKILLS = '$PLUGIN_SKILLS';
export const PLUGIN_SKILLS_MARKER = '\0$PLUGIN_SKILLS';
/** Notification hooks a plugin may fire itself with an `emit:<hook>` grant (see core/syscalls/emit.ts). */
export const EMITTABLE_HOOKS: readonly string[] = ['skillsChanged'];

/** Parses one permission string; returns a reason string when it is not valid. */
export function parsePermission(raw: string): Permission | string {
  if (raw === 'kv' || raw === 'wasm' || raw === 'exec') return { kind: raw, raw };
  const colon = raw.indexOf(':');
  if (colon < 0) return `unknown permission "${raw}"`;
  const kind = raw.slice(0, colon);
  const value = raw.slice(colon + 1);
  switch (kind) {
    case 'net':
      // `net:*`: any public host. Private, loopback and link-local addresses still need their host named
      // exactly (the address policy asks for an exact grant), and metadata addresses are never reachable.
      if (value === '*') return { kind, raw, host: value };
      if (!HOST.test(value) && !IPV6_HOST.test(value)) return `"${value}" is not a host name (lowercase, optional *. prefix and :port)`;
      return { kind, raw, host: value };
    case 'fs.read':
    case 'fs.write':
      if (value === PLUGIN_SKILLS || value.startsWith(`${PLUGIN_SKILLS}/`)) {
        return kind === 'fs.read' && value === PLUGIN_SKILLS ? { kind, raw, path: value } : `"${value}": ${PLUGIN_SKILLS} is read-only and takes no sub-path (use fs.read:${PLUGIN_SKILLS})`;
      }
      if (!(value.startsWith('/') || PATH_VARS.some((v) => value === v || value.startsWith(`${v}/`)))) {
        return `"${value}" must be an absolute path or start with ${PATH_VARS.join(', ')}`;
      }
      if (value.split('/').includes('..')) return `"${value}" may not contain ".."`;
      return { kind, raw, path: value };
    case 'env':
      if (!ENV_NAME.test(value)) return `"${value}" is not an environment variable name`;
      return { kind, raw, name: value };
    case 'secret':
      if (!ENV_NAME.test(value)) return `"${value}" is not a secret name (letters, digits, underscores)`;
      return { kind, raw, name: value };
    case 'tools.call':
      if (!TOOL_NAME.test(value)) return `"${value}" is not a tool name`;
      return { kind, raw, tool: value };
    case 'emit':
      if (!EMITTABLE_HOOKS.includes(value)) return `"${value}" is not a hook a plugin may fire (only ${EMITTABLE_HOOKS.join(', ')})`;
      return { kind, raw, hook: value };
    default:
      return `unknown permission kind "${kind}"`;
  }
}

/** Plain words for the consent prompt and `plugins info`. */
export function describePermission(p: Permission): string {
  switch (p.kind) {
    case 'kv': return 'keep its own key-value data in the Caduceus store';
    case 'wasm': return 'compile and run WebAssembly inside its sandbox';
    case 'exec': return 'run shell commands in the workspace (each one checked by the command guard; dangerous ones need approval, hardline ones never run)';
    case 'net': return p.host === '*' ? 'make HTTP(S) requests to any public host (private and loopback addresses still need their own grant)' : `make HTTP(S) requests to ${p.host}`;
    case 'fs.read': return p.path === PLUGIN_SKILLS ? 'read the skill folders that enabled plugins ship (contributes.skills)' : `read files under ${p.path}`;
    case 'fs.write': return `create and change files under ${p.path}`;
    case 'env': return `read the environment variable ${p.name}`;
    case 'secret': return `read the secret ${p.name} (stored with \`caduceus secrets set\`)`;
    case 'tools.call': return `call the tool ${p.tool}`;
    case 'emit': return `fire the ${p.hook} notification, which tells the runner and the plugins that tap it`;
  }
}

/** Plain words for a permission string; the string itself when it does not parse. */
export function meaningOf(raw: string): string {
  const parsed = parsePermission(raw);
  return typeof parsed === 'string' ? raw : describePermission(parsed);
}

export interface PathContext {
  workspace: string;
  pluginData: string;
  /** For $CADUCEUS_HOME; without it the variable expands to the default home. */
  caduceusHome?: string;
}

/** Expands $WORKSPACE, $HOME, $PLUGIN_DATA and $CADUCEUS_HOME in an fs grant into an absolute path. */
export function expandGrantPath(path: string, ctx: PathContext): string {
  if (path === PLUGIN_SKILLS) return PLUGIN_SKILLS_MARKER;
  return resolve(expandPathVars(path, ctx));
}

/**
 * Replaces a leading $WORKSPACE, $HOME, $PLUGIN_DATA or $CADUCEUS_HOME; other paths are returned as they
 * are. Grants use it, and so do the fs syscalls, so a plugin can write `ctx.fs.list('$CADUCEUS_HOME/x')`.
 */
export function expandPathVars(path: string, ctx: PathContext): string {
  const m = /^\$(WORKSPACE|HOME|PLUGIN_DATA|CADUCEUS_HOME)(?=\/|$)/.exec(path);
  if (!m) return path;
  const base = m[1] === 'WORKSPACE' ? ctx.workspace : m[1] === 'HOME' ? homedir() : m[1] === 'PLUGIN_DATA' ? ctx.pluginData
    : ctx.caduceusHome ?? (process.env.CADUCEUS_HOME || resolve(homedir(), '.caduceus'));
  return base + path.slice(m[0].length);
}

/**
 * The grants that take effect: granted in the store and still requested by the manifest. A ceiling of
 * `net:*` covers any one host the operator grants (e.g. a local model server at `net:127.0.0.1:8080`).
 */
export function effectiveGrants(requested: readonly string[], granted: readonly string[]): Permission[] {
  const out: Permission[] = [];
  for (const raw of granted) {
    if (!withinCeiling(requested, raw)) continue;
    const parsed = parsePermission(raw);
    if (typeof parsed !== 'string') out.push(parsed);
  }
  return out;
}

/** Whether a manifest's requested permissions cover this grant (`net:*` covers every `net:<host>`). */
export function withinCeiling(requested: readonly string[], raw: string): boolean {
  return requested.includes(raw) || (raw.startsWith('net:') && requested.includes('net:*'));
}
