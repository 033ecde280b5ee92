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
  | { kind: 'tools.call'; raw: string; tool: string };

const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;
const IPV6_HOST = /^\[[0-9a-f:.]+\](:\d{1,5})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const PATH_VARS = ['$WORKSPACE', '$HOME', '$PLUGIN_DATA'] as const;

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
    case 'fs.read': return `read files under ${p.path}`;
    case 'fs.write': return `create and change files under ${p.path}`;
    case 'env': return `read the environment variable ${p.name}`;
    case 'secret': return `read the secret ${p.name} (stored with \`caduceus secrets set\`)`;
    case 'tools.call': return `call the tool ${p.tool}`;
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
}

/** Expands $WORKSPACE, $HOME and $PLUGIN_DATA in an fs grant into an absolute path. */
export function expandGrantPath(path: string, ctx: PathContext): string {
  const replaced = path
    .replace(/^\$WORKSPACE/, ctx.workspace)
    .replace(/^\$HOME/, homedir())
    .replace(/^\$PLUGIN_DATA/, ctx.pluginData);
  return resolve(replaced);
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
