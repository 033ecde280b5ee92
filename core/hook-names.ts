/**
 * The names of the kernel hooks, split by who may tap them. Kept apart from `hooks.ts` so the manifest
 * schema can name them without loading tapable.
 */
export const PLUGIN_HOOKS = [
  'pluginLoad',
  'pluginLoaded',
  'pluginUnloaded',
  'resolveTools',
  'beforeToolCall',
  'afterToolCall',
  'toolError',
  'buildPrompt',
  'sessionStart',
  'sessionEnd',
  'resolveCommands',
  'runCommand',
  'skillsChanged',
] as const;

export type PluginHookName = (typeof PLUGIN_HOOKS)[number];

/** Tap order, by name: guards can never run after the tool by accident. */
export const STAGE = { GUARD: -100, DEFAULT: 0, AUDIT: 100 } as const;
export type StageName = keyof typeof STAGE;
