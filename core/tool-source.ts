/**
 * Tool sources: where tools come from besides plugin isolates. Plugins are the kernel's first source and
 * stay wired into the registry and the supervisors; every other source (today: external MCP servers,
 * core/mcp/) implements `ToolSource` and is merged into the same registry, so listings, the model-facing
 * list, the pipeline (validation, guards, approvals, audit) and `tools.call` treat its tools like any
 * other. A source lists from what it already knows (config, a cache in the store): listing never
 * connects anything and never loads a heavy module. Connecting happens in `prepare` (long-running
 * commands, the model-facing list), on a lookup miss, or on the first call.
 */
import { CaduceusError, type ErrorCode } from './errors.js';
import type { Kernel } from './kernel.js';
import type { Registry, ToolOrigin, ToolView } from './registry.js';
import { McpToolSource } from './mcp/source.js';

export interface SourceInvokeOptions {
  timeoutMs: number;
  maxBytes: number;
  caller: string;
  sessionId?: string | undefined;
}

/** Something a source cannot serve, shown by `tools list` (stderr), `mcp list` and `doctor`. */
export interface SourceProblem {
  source: ToolOrigin;
  /** What it is about, e.g. `mcp:github`. */
  subject: string;
  code: ErrorCode;
  message: string;
  /** true for a note (e.g. "not connected yet"), false for something broken that needs fixing. */
  note: boolean;
}

export interface ToolSource {
  readonly id: Exclude<ToolOrigin, 'plugin'>;
  /** Its tools now, each with `origin` = id, an owner in `plugin` and a status. Cheap: no I/O beyond the store. */
  tools(): ToolView[];
  /** May connect and fetch fresh tool lists; called before the model-facing list and by long-running commands. */
  prepare(): Promise<void>;
  /** A lookup missed `name`: may connect and fetch; resolves true when its tool list may have changed. */
  lookupMissed(name: string): Promise<boolean>;
  /** Runs one call of a tool it listed; rejects with a CaduceusError. */
  invoke(view: ToolView, args: unknown, opts: SourceInvokeOptions): Promise<unknown>;
  problems(): SourceProblem[];
  /** Stops everything it started; resolves with what never settled. */
  close(): Promise<string[]>;
}

export class ToolSources {
  private readonly list: ToolSource[];

  constructor(k: Kernel) {
    this.list = [new McpToolSource(k)];
  }

  /** Adds a source (embedders); its tools appear at the next registry build (`kernel.invalidate()`). */
  add(source: ToolSource): void {
    if (this.list.some((s) => s.id === source.id)) throw new Error(`a tool source with id '${source.id}' is already registered`);
    this.list.push(source);
  }

  get(id: ToolOrigin): ToolSource | undefined {
    return this.list.find((s) => s.id === id);
  }

  /**
   * Adds every source's tools to a registry built from plugins. A name owned twice (by a plugin and an
   * MCP tool, or by two MCP tools after sanitising) is a conflict naming every owner, and neither is
   * served, as between two plugins.
   */
  merge(reg: Registry): Registry {
    const extra = this.list.flatMap((s) => s.tools());
    if (extra.length === 0) return reg;
    const tools = new Map(reg.tools);
    const owners = new Map<string, string[]>();
    const own = (v: ToolView) => { if (v.status !== 'disabled') owners.set(v.name, [...(owners.get(v.name) ?? []), v.plugin]); };
    for (const v of reg.tools.values()) own(v);
    for (const v of extra) {
      own(v);
      const existing = tools.get(v.name);
      if (existing && existing.status !== 'disabled' && v.status === 'disabled') continue;
      tools.set(v.name, v);
    }
    const conflicts = [...reg.conflicts];
    const extraNames = new Set(extra.map((v) => v.name));
    for (const [name, ids] of owners) {
      if (ids.length < 2 || !extraNames.has(name)) continue;
      const sorted = [...new Set(ids)].sort();
      const at = conflicts.findIndex((c) => c.name === name);
      if (at >= 0) conflicts[at] = { name, plugins: [...new Set([...conflicts[at]!.plugins, ...sorted])].sort() };
      else conflicts.push({ name, plugins: sorted });
      const view = tools.get(name)!;
      const mcpOwner = sorted.find((o) => o.startsWith('mcp:'));
      tools.set(name, {
        ...view,
        status: 'unavailable',
        reason: `tool name '${name}' is contributed by ${sorted.map((o) => `'${o}'`).join(' and ')}`,
        fix: mcpOwner
          ? `rename or filter one of them: set mcpServers.${mcpOwner.slice(4)}.tools.exclude in $CADUCEUS_HOME/config.json, or disable a plugin`
          : `disable one of them: caduceus plugins disable ${sorted[1]}`,
      });
    }
    return { tools, conflicts };
  }

  async prepare(): Promise<void> {
    await Promise.all(this.list.map((s) => s.prepare()));
  }

  async lookupMissed(name: string): Promise<boolean> {
    const answers = await Promise.all(this.list.map((s) => s.lookupMissed(name)));
    return answers.some(Boolean);
  }

  invoke(view: ToolView, args: unknown, opts: SourceInvokeOptions): Promise<unknown> {
    const source = this.get(view.origin);
    if (!source) {
      return Promise.reject(new CaduceusError('CAD_ERR_TOOL_NOT_FOUND', `Tool '${view.name}' comes from the source '${view.origin}', which this kernel does not have.`, { tool: view.name }));
    }
    return source.invoke(view, args, opts);
  }

  problems(): SourceProblem[] {
    return this.list.flatMap((s) => s.problems());
  }

  async close(): Promise<string[]> {
    const unsettled = await Promise.all(this.list.map((s) => s.close().catch((err: Error) => [`tool source '${s.id}' failed to close: ${err.message}`])));
    return unsettled.flat();
  }
}
