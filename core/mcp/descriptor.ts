/**
 * MCP tool ↔ Caduceus tool descriptor. An MCP tool becomes a full descriptor: its input schema (with
 * `$schema` dropped, so any draft validates with the host's ajv), `mutating` = not `readOnlyHint`,
 * `idempotent` from `idempotentHint` (read-only tools count as idempotent), visibility `prompt`, trust
 * classes model/operator/plugin (not `mcp-client`: `caduceus mcp serve` does not re-export other
 * servers' tools), the server's `timeout`, and the raw hints under `mcp.annotations`.
 */
import type { ToolView } from '../registry.js';
import type { CachedTool } from './cache.js';
import type { McpServerConfig } from './config.js';
import { mcpToolName } from './names.js';

export const MCP_MAX_RESULT_BYTES = 4 * 1024 * 1024;
export const MCP_TRUST_CLASSES = ['model', 'operator', 'plugin'] as const;

/** What is kept of a tool from `tools/list`: names, text, a normalised input schema and the hints. */
export function toCachedTool(t: { name: string; title?: string | undefined; description?: string | undefined; inputSchema?: unknown; annotations?: Record<string, unknown> | undefined }): CachedTool {
  const schema = (typeof t.inputSchema === 'object' && t.inputSchema !== null ? { ...(t.inputSchema as Record<string, unknown>) } : {}) as Record<string, unknown>;
  delete schema.$schema;
  if (schema.type !== 'object') schema.type = 'object';
  const out: CachedTool = { name: t.name, inputSchema: schema };
  if (t.title) out.title = t.title;
  if (t.description) out.description = t.description;
  const a = t.annotations;
  if (a && typeof a === 'object') {
    const hints: NonNullable<CachedTool['annotations']> = {};
    for (const k of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) if (typeof a[k] === 'boolean') hints[k] = a[k] as boolean;
    if (typeof a.title === 'string') hints.title = a.title;
    if (Object.keys(hints).length) out.annotations = hints;
  }
  return out;
}

/** The registry view of one MCP tool; status `available` (the source adjusts it). */
export function toToolView(server: McpServerConfig, t: CachedTool): ToolView {
  const a = t.annotations ?? {};
  const readOnly = a.readOnlyHint === true;
  const title = t.title ?? a.title;
  const description = (t.description ?? title ?? `Tool '${t.name}' of the MCP server '${server.name}'.`).slice(0, 4096) || `Tool '${t.name}' of the MCP server '${server.name}'.`;
  const view: ToolView = {
    name: mcpToolName(server.name, t.name),
    description,
    inputSchema: t.inputSchema,
    toolset: 'mcp',
    availability: { env: [], bins: [], permissions: [], config: [] },
    mutating: !readOnly,
    idempotent: a.idempotentHint ?? readOnly,
    visibility: 'prompt',
    trustClasses: [...MCP_TRUST_CLASSES],
    timeoutMs: server.timeoutMs,
    maxResultBytes: MCP_MAX_RESULT_BYTES,
    auditKind: 'mcp',
    plugin: `mcp:${server.name}`,
    origin: 'mcp',
    mcp: { server: server.name, tool: t.name },
    status: 'available',
  };
  if (title) view.mcp!.title = title;
  const { title: _omit, ...hints } = a;
  if (Object.keys(hints).length) view.mcp!.annotations = hints;
  return view;
}
