/**
 * What a stdio MCP server process is given: a filtered environment, never Caduceus's own. It inherits only
 * the variables a program needs to run (PATH, HOME, USER, the locale, the temp folder…), plus the `env`
 * configured for it. Configured values may name a secret or a variable instead of holding it:
 * `${secret:NAME}` is the operator's secret store (`caduceus secrets set NAME`), `${env:NAME}` a variable of
 * the environment Caduceus runs in. The same references work in `headers` of HTTP servers. So an API key
 * reaches a server only when its entry names it.
 */
import { CaduceusError } from '../errors.js';
import type { McpServerConfig } from './config.js';

const INHERITED = process.platform === 'win32'
  ? ['APPDATA', 'HOMEDRIVE', 'HOMEPATH', 'LOCALAPPDATA', 'PATH', 'PATHEXT', 'PROCESSOR_ARCHITECTURE', 'SYSTEMDRIVE', 'SYSTEMROOT', 'TEMP', 'TMP', 'USERNAME', 'USERPROFILE', 'PROGRAMFILES', 'COMSPEC']
  : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'];

const REF = /\$\{(secret|env):([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface SecretLookup { get(name: string): string | undefined }

/**
 * Replaces `${secret:NAME}` and `${env:NAME}` in one configured value; a missing one is a config error
 * naming the server (when there is one) and the config path to fix.
 */
export function resolveRefs(server: string | undefined, path: string, value: string, secrets: SecretLookup): string {
  return value.replace(REF, (_, kind: string, name: string) => {
    const v = kind === 'secret' ? secrets.get(name) : process.env[name];
    if (v === undefined) {
      const where = server ? `MCP server '${server}': field '${path.slice(`mcpServers.${server}.`.length)}'` : `Config field '${path}'`;
      throw new CaduceusError('CAD_ERR_MCP_CONFIG',
        kind === 'secret'
          ? `${where} names the secret '${name}', which is not stored. Run \`caduceus secrets set ${name}\`, or change ${path} in $CADUCEUS_HOME/config.json.`
          : `${where} names the environment variable ${name}, which is not set. Export it before running Caduceus, or change ${path} in $CADUCEUS_HOME/config.json.`,
        server ? { plugin: `mcp:${server}`, details: { server, field: path } } : { details: { field: path } });
    }
    return v;
  });
}

/** The environment of a stdio server's process. */
export function serverEnvironment(server: McpServerConfig, secrets: SecretLookup): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const v = process.env[key];
    // Exported shell functions are skipped, as sudo does.
    if (v !== undefined && !v.startsWith('()')) env[key] = v;
  }
  for (const [key, value] of Object.entries(server.env)) env[key] = resolveRefs(server.name, `mcpServers.${server.name}.env.${key}`, value, secrets);
  return env;
}

export function serverHeaders(server: McpServerConfig, secrets: SecretLookup): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(server.headers)) out[key] = resolveRefs(server.name, `mcpServers.${server.name}.headers.${key}`, value, secrets);
  return out;
}
