/**
 * Manifest v1 and the tool descriptor, as zod schemas. These are the source of truth: the JSON Schemas in
 * `manifests/` are generated from them (`npm run build`), and a test fails when the two drift. Only the
 * install and load paths import this file; listings read manifests the store already validated.
 */
import { z } from 'zod';
import semver from 'semver';
import { parsePermission, TOOL_NAME } from '../permissions.js';
import { PLUGIN_HOOKS } from '../hook-names.js';

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'caduceus.plugin.json';

const jsonSchemaObject = z.record(z.string(), z.unknown()).refine(
  (s) => s.type === 'object',
  { message: 'must be a JSON Schema whose top-level "type" is "object"' },
);

export const TRUST_CLASSES = ['model', 'operator', 'plugin', 'mcp-client', 'api-client'] as const;
export const TOOL_STATUSES = ['available', 'disabled', 'missing_dependency', 'unavailable', 'degraded'] as const;

export const availabilitySchema = z.strictObject({
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
  bins: z.array(z.string().regex(/^[A-Za-z0-9._+-]+$/)).default([]),
  permissions: z.array(z.string()).default([]),
  config: z.array(z.string().min(1)).default([]),
});

export const toolDescriptorSchema = z.strictObject({
  name: z.string().regex(TOOL_NAME, 'must match ^[a-zA-Z0-9_-]{1,64}$ (a function name OpenAI and Anthropic accept)'),
  description: z.string().min(1).max(4096),
  inputSchema: jsonSchemaObject,
  resultSchema: z.record(z.string(), z.unknown()).optional(),
  toolset: z.string().regex(/^[a-z0-9_-]{1,64}$/).optional(),
  availability: availabilitySchema.default({ env: [], bins: [], permissions: [], config: [] }),
  mutating: z.boolean().default(true),
  idempotent: z.boolean().default(false),
  visibility: z.enum(['prompt', 'operator']).default('prompt'),
  // `mcp-client` is in the default so that `caduceus mcp serve` offers what a model may call (an MCP client is
  // usually another agent's model); a tool that must stay inside Caduceus lists its classes without it.
  trustClasses: z.array(z.enum(TRUST_CLASSES)).min(1).default(['model', 'operator', 'plugin', 'mcp-client']),
  timeoutMs: z.int().min(1).max(600_000).default(30_000),
  maxResultBytes: z.int().min(64).max(64 * 1024 * 1024).default(1024 * 1024),
  auditKind: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/).default('tool'),
});

/** An LLM provider a plugin serves (see defineProvider in the SDK); listed without starting the plugin. */
export const providerSchema = z.strictObject({
  kind: z.literal('llm'),
  name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes, starting with a letter'),
  description: z.string().min(1).max(1024),
  defaultModel: z.string().min(1).max(200).optional(),
  configuredBy: z.strictObject({
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
    secrets: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
    config: z.array(z.string().min(1)).default([]),
  }).default({ env: [], secrets: [], config: [] }),
  schemaKeywordsUnsupported: z.array(z.string().min(1)).default([]),
  timeoutMs: z.int().min(1000).max(3_600_000).default(600_000),
});

const COMMAND_NAME_RE = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * A CLI command a plugin serves as `caduceus <name> ...` (see defineCommand in the SDK and
 * core/commands.ts). `timeoutMs` is the wall-clock limit of one run; 0 means none (watchers), and each
 * entry into the isolate still has a CPU slice.
 */
export const commandSchema = z.strictObject({
  name: z.string().regex(COMMAND_NAME_RE, 'must be lowercase letters, digits and dashes, starting with a letter'),
  description: z.string().max(1024),
  subcommands: z.array(z.strictObject({
    name: z.string().regex(COMMAND_NAME_RE, 'must be lowercase letters, digits and dashes, starting with a letter'),
    description: z.string().max(1024),
    usage: z.string().max(500).optional(),
  })).default([]),
  timeoutMs: z.int().min(0).max(86_400_000).default(60_000),
});

const semverRange = z.string().min(1).refine((r) => semver.validRange(r) !== null, { message: 'must be a semver range' });

export const hookContributionSchema = z.strictObject({
  name: z.enum(PLUGIN_HOOKS),
  stage: z.enum(['GUARD', 'DEFAULT', 'AUDIT']).default('DEFAULT'),
  /**
   * beforeToolCall only. `call` (default): the handler sees each call with its arguments. `tool`: its
   * verdict depends only on the tool, its plugin, the caller and `mutating`; it is never sent the
   * arguments, and the kernel asks it once per tool and caller for the plugin's lifetime.
   */
  scope: z.enum(['call', 'tool']).default('call'),
}).refine((h) => h.scope === 'call' || h.name === 'beforeToolCall', { message: 'scope "tool" applies only to beforeToolCall', path: ['scope'] });

export const manifestSchema = z.strictObject({
  $schema: z.string().optional(),
  manifestVersion: z.literal(MANIFEST_VERSION),
  id: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes, starting with a letter'),
  name: z.string().min(1).max(100),
  version: z.string().refine((v) => semver.valid(v) !== null, { message: 'must be a semver version like 1.2.3' }),
  description: z.string().min(1).max(1024),
  engines: z.strictObject({
    caduceus: semverRange.refine((r) => !['*', 'x', 'X', ''].includes(r.trim()), {
      message: 'may not be "*": name the Caduceus versions the plugin was built for, e.g. "^0.1.0"',
    }),
  }),
  main: z.string().min(1),
  /** The caduceus/sdk version the bundle was built with; written by `caduceus plugin build`. */
  sdk: z.string().refine((v) => semver.valid(v) !== null, { message: 'must be a semver version like 0.1.0' }).optional(),
  contributes: z.strictObject({
    tools: z.array(toolDescriptorSchema).default([]),
    providers: z.array(providerSchema).default([]),
    commands: z.array(commandSchema).default([]),
    skills: z.array(z.string().min(1)).default([]),
    hooks: z.array(hookContributionSchema).default([]),
  }).default({ tools: [], providers: [], commands: [], skills: [], hooks: [] }),
  permissions: z.array(z.string().superRefine((raw, ctx) => {
    const parsed = parsePermission(raw);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  })).default([]),
  configSchema: jsonSchemaObject,
  // Only lazy activation exists today: a plugin starts when one of its tools is called or one of its
  // declared hooks fires. Eager start belongs to long-running hosts (serve, chat), which come later.
  activation: z.enum(['onDemand']).default('onDemand'),
  requires: z.strictObject({
    plugins: z.record(z.string(), semverRange).default({}),
  }).default({ plugins: {} }),
  sandbox: z.strictObject({
    memoryMb: z.int().min(8).max(1024).default(64),
  }).default({ memoryMb: 64 }),
  bundled: z.strictObject({ enabledByDefault: z.boolean() }).optional(),
  license: z.string().optional(),
  homepage: z.string().optional(),
});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
export type ToolDescriptor = z.output<typeof toolDescriptorSchema>;
export type ProviderDeclaration = z.output<typeof providerSchema>;
export type CommandDeclaration = z.output<typeof commandSchema>;
export type TrustClass = (typeof TRUST_CLASSES)[number];
export type ToolStatus = (typeof TOOL_STATUSES)[number];
