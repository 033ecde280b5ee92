/**
 * The kernel's one frozen, typed `hooks` object, grouped by lifecycle phase. No hook is created anywhere
 * else. The hook class is the calling convention: bail = "may this happen / who answers", waterfall =
 * transform, parallel = notification, sync = host-only side effect. Plugins never see this object; the
 * kernel taps it on their behalf (see plugin-taps.ts), naming every tap itself.
 */
import { createRequire } from 'node:module';
import type * as Tapable from 'tapable';
import type { AuditEvent } from './audit.js';
import type { ToolView } from './registry.js';
import type { CodedErrorShape } from './errors.js';
import type { ApprovalAnswer, ApprovalRequest } from './approvals.js';
import type { ToolCallPayload as ToolCallInfo, Verdict, PromptInfo, SessionInfo, SlashCommandInfo, SlashCommandCall, SlashCommandResult } from '../sdk/types.js';


export interface PluginLoadInfo {
  id: string;
  version: string;
  source: string;
  integrity: string;
  permissions: string[];
  generation: number;
}

export interface PluginEventInfo {
  id: string;
  version: string;
  generation: number;
}

/** The plugin-facing shapes are the SDK's: one definition for both sides of the sandbox boundary. */
export type { ToolCallPayload as ToolCallInfo, Verdict, PromptInfo, PromptSection, SessionInfo, SlashCommandInfo, SlashCommandCall, SlashCommandResult } from '../sdk/types.js';

export interface SkillsChange {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface Veto {
  veto: string;
}

export interface ToolResultInfo {
  tool: string;
  plugin: string;
  caller: string;
  result: unknown;
}

export interface ToolErrorInfo {
  tool: string;
  plugin: string | undefined;
  caller: string;
  error: CodedErrorShape;
}

export function createHooks() {
  // Required here rather than imported at the top: a kernel that only lists things never builds hooks.
  const { AsyncSeriesBailHook, AsyncParallelHook, AsyncSeriesWaterfallHook, SyncHook } = createRequire(import.meta.url)('tapable') as typeof Tapable;
  return Object.freeze({
    // plugin lifecycle
    pluginLoad: new AsyncSeriesBailHook<[PluginLoadInfo], Veto | undefined>(['plugin']),
    pluginLoaded: new AsyncParallelHook<[PluginEventInfo]>(['plugin']),
    pluginUnloaded: new AsyncParallelHook<[PluginEventInfo]>(['plugin']),
    // tools
    resolveTools: new AsyncSeriesWaterfallHook<[ToolView[]]>(['tools']),
    beforeToolCall: new AsyncSeriesBailHook<[ToolCallInfo], Verdict | undefined>(['call']),
    afterToolCall: new AsyncSeriesWaterfallHook<[ToolResultInfo]>(['result']),
    toolError: new AsyncParallelHook<[ToolErrorInfo]>(['error']),
    // sessions and prompts (the runner)
    buildPrompt: new AsyncSeriesWaterfallHook<[PromptInfo]>(['prompt']),
    sessionStart: new AsyncParallelHook<[SessionInfo]>(['session']),
    sessionEnd: new AsyncParallelHook<[{ sessionId: string; reason: string }]>(['session']),
    resolveCommands: new AsyncSeriesWaterfallHook<[SlashCommandInfo[]]>(['commands']),
    runCommand: new AsyncSeriesBailHook<[SlashCommandCall], SlashCommandResult | undefined>(['call']),
    skillsChanged: new AsyncParallelHook<[SkillsChange]>(['change']),
    // approvals (host only): whoever can ask the operator taps this; the first answer wins
    approval: new AsyncSeriesBailHook<[ApprovalRequest], ApprovalAnswer | undefined>(['request']),
    // audit (host only)
    audit: new SyncHook<[AuditEvent]>(['event']),
  });
}

export type Hooks = ReturnType<typeof createHooks>;
export type BailHookName = 'pluginLoad' | 'beforeToolCall' | 'approval' | 'runCommand';
export type WaterfallHookName = 'resolveTools' | 'afterToolCall' | 'buildPrompt' | 'resolveCommands';
export type ParallelHookName = 'pluginLoaded' | 'pluginUnloaded' | 'toolError' | 'sessionStart' | 'sessionEnd' | 'skillsChanged';
