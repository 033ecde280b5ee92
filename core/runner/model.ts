/**
 * Which provider and model a run uses: `--model <provider>/<model>`, else `model` in config.json, else
 * `CADUCEUS_MODEL`, else the first provider (by name) whose `configuredBy` is satisfied (an environment
 * variable set, a secret stored, or a config key present), with its default model. With none, the error
 * says exactly what would configure each provider that is installed.
 */
import { CaduceusError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import type { ProviderView } from '../providers.js';

export interface ModelChoice {
  provider: ProviderView;
  model: string;
  /** `<provider>/<model>`. */
  ref: string;
  /** Where the choice came from, for `caduceus providers` and error messages. */
  source: 'flag' | 'config' | 'env' | 'configured provider';
}

/** What configures a provider, in words, e.g. "OPENAI_API_KEY in the environment or as a secret". */
export function configureHint(p: ProviderView): string {
  const ways: string[] = [];
  for (const e of p.configuredBy.env) ways.push(p.configuredBy.secrets.includes(e) ? `set ${e} (environment, or \`caduceus secrets set ${e}\`)` : `set ${e} in the environment`);
  for (const s of p.configuredBy.secrets) if (!p.configuredBy.env.includes(s)) ways.push(`\`caduceus secrets set ${s}\``);
  for (const key of p.configuredBy.config) ways.push(`set plugins.${p.plugin}.${key} in config.json`);
  return ways.length ? ways.join(', or ') : 'nothing (it needs no configuration)';
}

/** Whether any of the provider's configuredBy sources is set. */
export function isConfigured(k: Kernel, p: ProviderView): boolean {
  const by = p.configuredBy;
  if (by.env.length === 0 && by.secrets.length === 0 && by.config.length === 0) return true;
  if (by.env.some((e) => (process.env[e] ?? '') !== '')) return true;
  if (by.secrets.length) {
    const names = new Set(k.secrets.names());
    if (by.secrets.some((s) => names.has(s))) return true;
  }
  const config = k.configFor(p.plugin);
  return by.config.some((key) => config[key] !== undefined && config[key] !== '');
}

export function resolveModel(k: Kernel, flag?: string): ModelChoice {
  const { providers, conflicts } = k.providers();
  if (conflicts.length) throw new CaduceusError('CAD_ERR_PROVIDER_NOT_CONFIGURED', `Two plugins serve the same provider: ${conflicts.join('; ')}.`);
  const configured = k.settings().model;
  const fromEnv = process.env.CADUCEUS_MODEL;
  const [ref, source] = flag ? [flag, 'flag' as const] : configured ? [configured, 'config' as const] : fromEnv ? [fromEnv, 'env' as const] : [undefined, 'configured provider' as const];
  if (ref !== undefined) {
    const slash = ref.indexOf('/');
    const name = slash < 0 ? ref : ref.slice(0, slash);
    const provider = providers.get(name);
    if (!provider) {
      const where = source === 'flag' ? '--model' : source === 'config' ? '"model" in config.json' : 'CADUCEUS_MODEL';
      throw new CaduceusError('CAD_ERR_PROVIDER_NOT_CONFIGURED',
        `${where} names provider '${name}' (${JSON.stringify(ref)}), which no enabled plugin serves. ${providers.size ? `Providers: ${[...providers.keys()].sort().join(', ')}; write <provider>/<model>, e.g. ${[...providers.values()][0]!.name}/${[...providers.values()][0]!.defaultModel ?? '<model>'}.` : 'No provider plugin is enabled: `caduceus plugins enable openai` (or anthropic).'}`,
        { details: { provider: name } });
    }
    const model = slash < 0 ? provider.defaultModel : ref.slice(slash + 1);
    if (!model) {
      throw new CaduceusError('CAD_ERR_PROVIDER_NOT_CONFIGURED', `Provider '${name}' has no default model; name one: --model ${name}/<model>.`, { details: { provider: name } });
    }
    return { provider, model, ref: `${name}/${model}`, source };
  }
  const ready = [...providers.values()].filter((p) => isConfigured(k, p)).sort((a, b) => (a.name < b.name ? -1 : 1));
  const pick = ready.find((p) => p.defaultModel);
  if (pick) return { provider: pick, model: pick.defaultModel!, ref: `${pick.name}/${pick.defaultModel}`, source };
  if (providers.size === 0) {
    throw new CaduceusError('CAD_ERR_PROVIDER_NOT_CONFIGURED',
      'No LLM provider is available: no enabled plugin serves one. Enable a provider plugin, e.g. `caduceus plugins enable openai --yes`, then set its API key.');
  }
  const lines = [...providers.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => `  ${p.name}: ${configureHint(p)}`);
  throw new CaduceusError('CAD_ERR_PROVIDER_NOT_CONFIGURED',
    `No LLM provider is configured. Configure one of these:\n${lines.join('\n')}\nthen run again, or pass --model <provider>/<model> (or set "model" in $CADUCEUS_HOME/config.json). docs/providers.md has examples for OpenAI, Anthropic, OpenRouter, llama.cpp and Ollama.`);
}
