/**
 * skills: SKILL.md skills for Caduceus (bundled, on by default). A skill is a folder with a SKILL.md
 * (YAML frontmatter + markdown instructions) and optional support folders. This plugin finds them in
 * the project, the user's Caduceus home, config-named folders and other plugins, keeps the index live
 * with file watches, and hands skills to models through tools (skills_list, skill_view, skill_manage),
 * the prompt (a frozen index section), slash commands in `caduceus chat`, and `caduceus skills ...`.
 * It uses only the SDK and syscalls: fs.read/list/stat/write/remove/watch, fs.stage, fs.skillDirs,
 * probe, safety.scanText, kv and emit('skillsChanged').
 */
import { definePlugin, type PluginContext } from 'caduceus/sdk';
import { Catalog, type Config } from './catalog.js';
import { Gate } from './gate.js';
import { PromptIndex } from './prompt.js';
import { skillTools } from './tools.js';
import { skillsCommand } from './cli.js';
import type { Problem } from './skill.js';

interface State {
  ctx: PluginContext;
  catalog: Catalog;
  gate: Gate;
  prompt: PromptIndex;
  slashWarnings: Problem[];
}

let state: State | undefined;

function services(): State {
  if (!state) throw new Error('the skills plugin has not been set up');
  return state;
}

export default definePlugin({
  tools: skillTools(services),
  commands: [skillsCommand(services)],
  hooks: {
    buildPrompt: {
      handler: async (prompt) => {
        const s = services();
        await s.catalog.watch();
        return s.prompt.build(prompt);
      },
    },
    resolveCommands: {
      handler: async (commands) => {
        const s = services();
        await s.catalog.watch();
        return s.prompt.commands(commands, s.slashWarnings);
      },
    },
    runCommand: { handler: (call) => services().prompt.run(call) },
    sessionEnd: { handler: ({ sessionId }) => services().prompt.end(sessionId) },
  },
  setup: (ctx) => {
    const config = ctx.config as Config;
    const catalog = new Catalog(ctx, config);
    const gate = new Gate(ctx);
    state = { ctx, catalog, gate, prompt: new PromptIndex(ctx, catalog, gate, config.promptMaxChars ?? 8000), slashWarnings: [] };
  },
});
