/**
 * The public kernel API (`import { Kernel } from 'caduceus'`): open a kernel on a Caduceus home, manage
 * plugins, list and call tools, read the audit log. The CLI is built on exactly this surface.
 */
export { Kernel, defaultHome, type KernelOptions, type CaduceusConfig } from './kernel.js';
export { ERRORS, CaduceusError, isCoded, type ErrorCode, type CodedErrorShape } from './errors.js';
export { STAGE, PLUGIN_HOOKS, type PluginHookName, type StageName } from './hook-names.js';
export type { Hooks, Verdict, ToolCallInfo, ToolResultInfo, ToolErrorInfo, PluginLoadInfo, PluginEventInfo } from './hooks.js';
export type { ToolView, PluginRecord, ToolOrigin, McpToolInfo } from './registry.js';
export type { ToolSource, ToolSources, SourceInvokeOptions, SourceProblem } from './tool-source.js';
export type { ToolCallResult, CallOptions } from './pipeline.js';
export type { AuditEvent, AuditRow, AuditChainRow } from './audit.js';
export type { AuditVerification, AuditProblem } from './store/audit-verify.js';
export type { Manifest, ToolDescriptor, ToolStatus, TrustClass } from './manifest/schema.js';
export { installPlugin, type InstallResult } from './lifecycle/install.js';
export { enablePlugin, disablePlugin, removePlugin, grantPermissions, revokePermissions, type Consent } from './lifecycle/manage.js';
export { CADUCEUS_VERSION } from './version.js';
export { runPluginCommand, type RunCommandOptions, type CommandRunResult } from './command-run.js';
export { BUILTIN_COMMANDS } from './commands.js';
