/**
 * One SKILL.md: split the YAML frontmatter from the markdown body, read the frontmatter strictly and
 * check each field against the format (agentskills.io, plus Caduceus's `metadata.caduceus.requires`).
 * A broken file yields a Problem naming the file, the line, the field and the fix; it never throws, so
 * one bad skill cannot stop the others from loading.
 */
import { parseYaml, YamlError, type YamlMap, type YamlValue } from './yaml.js';

/** Largest SKILL.md read (bytes of UTF-8, roughly): instructions, not data. */
export const MAX_SKILL_BYTES = 256 * 1024;
export const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MAX_DESCRIPTION = 1024;
export const SUPPORT_DIRS = ['references', 'scripts', 'templates', 'assets'] as const;

export interface Problem {
  severity: 'error' | 'warning';
  file: string;
  /** 1-based; 0 when the problem is the file as a whole. */
  line: number;
  field?: string;
  message: string;
  fix: string;
}

export interface Requires {
  bins: string[];
  env: string[];
  tools: string[];
  platforms: string[];
}

export interface ParsedSkill {
  name: string;
  description: string;
  license?: string;
  compatibility?: string;
  version?: string;
  allowedTools: string[];
  argumentHint?: string;
  userInvocable: boolean;
  modelInvocable: boolean;
  metadata: YamlMap;
  requires: Requires;
  body: string;
  /** File line where the body starts. */
  bodyLine: number;
  warnings: Problem[];
}

const KNOWN = new Set(['name', 'description', 'license', 'compatibility', 'allowed-tools', 'version', 'metadata',
  'user-invocable', 'disable-model-invocation', 'argument-hint']);

/** Parses the text of a SKILL.md; `file` is only for messages. */
export function parseSkill(text: string, file: string): { skill: ParsedSkill } | { problem: Problem } {
  const err = (line: number, message: string, fix: string, field?: string): { problem: Problem } =>
    ({ problem: { severity: 'error', file, line, ...(field ? { field } : {}), message, fix } });
  if (text.length > MAX_SKILL_BYTES) {
    return err(0, `is ${text.length} characters, over the ${MAX_SKILL_BYTES} limit for SKILL.md`, 'Move long material into references/ files and link to them from SKILL.md.');
  }
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) {
    return err(lineAt(text, bad), 'is not valid UTF-8 (or holds the U+FFFD replacement character)', 'Save the file as UTF-8.');
  }
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = src.split('\n');
  if (lines[0]?.replace(/\r$/, '').trimEnd() !== '---') {
    return err(1, 'does not start with a frontmatter line `---`', 'Begin the file with `---`, the `name:` and `description:` lines, and another `---`.');
  }
  let close = -1;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.replace(/\r$/, '').trimEnd();
    if (l === '---' || l === '...') {
      close = i;
      break;
    }
  }
  if (close < 0) return err(1, 'opens its frontmatter with `---` but never closes it', 'Add a `---` line after the last frontmatter field.');
  let fm: YamlMap;
  try {
    fm = parseYaml(lines.slice(1, close).join('\n'), 2);
  } catch (e) {
    if (e instanceof YamlError) return err(e.line, `frontmatter: ${e.message}`, e.fix);
    throw e;
  }
  const at = (key: string): number => {
    for (let i = 1; i < close; i++) if (new RegExp(`^\\s*["']?${key.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}["']?\\s*:`).test(lines[i]!)) return i + 1;
    return 1;
  };
  const warnings: Problem[] = [];
  const warn = (key: string, message: string, fix: string) => warnings.push({ severity: 'warning', file, line: at(key), field: key, message, fix });

  const name = fm.name;
  if (name === undefined || name === null || name === '') return err(1, 'has no `name` in its frontmatter', 'Add `name: <skill-name>` (lowercase letters, digits, `.`, `_`, `-`; at most 64).', 'name');
  if (typeof name !== 'string') return err(at('name'), '`name` must be text', 'Write `name: my-skill`.', 'name');
  if (!NAME_RE.test(name)) {
    return err(at('name'), `\`name\` ${JSON.stringify(name.slice(0, 80))} is not a valid skill name`, 'Use at most 64 lowercase letters, digits, `.`, `_` or `-`, starting with a letter or digit (e.g. `pdf-forms`).', 'name');
  }
  const description = fm.description;
  if (description === undefined || description === null || description === '') {
    return err(1, 'has no `description` in its frontmatter', 'Add `description:` saying what the skill does and when to use it (at most 1,024 characters).', 'description');
  }
  if (typeof description !== 'string') return err(at('description'), '`description` must be text', 'Write the description as one line of text, or quote it.', 'description');
  if (description.length > MAX_DESCRIPTION) {
    return err(at('description'), `\`description\` is ${description.length} characters, over the ${MAX_DESCRIPTION} limit`, 'Shorten it to what tells a model when to use the skill; put details in the body.', 'description');
  }
  const optionalText = (key: string, max: number): string | { problem: Problem } | undefined => {
    const v = fm[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean' || typeof v === 'object') return err(at(key), `\`${key}\` must be text`, `Write \`${key}: <text>\`, quoted if it starts with a special character.`, key);
    if (v.length > max) return err(at(key), `\`${key}\` is ${v.length} characters, over the ${max} limit`, `Shorten \`${key}\`.`, key);
    return v;
  };
  const license = optionalText('license', 500);
  if (typeof license === 'object') return license;
  const compatibility = optionalText('compatibility', 500);
  if (typeof compatibility === 'object') return compatibility;
  const version = optionalText('version', 64);
  if (typeof version === 'object') return version;
  const argumentHint = optionalText('argument-hint', 200);
  if (typeof argumentHint === 'object') return argumentHint;

  let allowedTools: string[] = [];
  const at2 = fm['allowed-tools'];
  if (typeof at2 === 'string') allowedTools = at2.split(/[\s,]+/).filter(Boolean);
  else if (Array.isArray(at2) && at2.every((t) => typeof t === 'string')) allowedTools = at2 as string[];
  else if (at2 !== undefined && at2 !== null) return err(at('allowed-tools'), '`allowed-tools` must be a space-separated list or a YAML list of tool names', 'Write `allowed-tools: Read Grep` or a `- tool` list.', 'allowed-tools');

  const flag = (key: string, dflt: boolean): boolean | { problem: Problem } => {
    const v = fm[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') return err(at(key), `\`${key}\` must be true or false`, `Write \`${key}: true\` or \`${key}: false\`.`, key);
    return v;
  };
  const userInvocable = flag('user-invocable', true);
  if (typeof userInvocable === 'object') return userInvocable;
  const noModel = flag('disable-model-invocation', false);
  if (typeof noModel === 'object') return noModel;

  const metadata = fm.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata) || metadata === null) {
    return err(at('metadata'), '`metadata` must be a mapping of keys to values', 'Indent `key: value` lines under `metadata:`.', 'metadata');
  }
  const requires = readRequires(metadata as YamlMap, () => at('metadata'), file);
  if ('problem' in requires) return requires;

  for (const key of Object.keys(fm)) {
    if (!KNOWN.has(key)) warn(key, `unknown frontmatter field \`${key}\` is ignored`, 'Remove it, or move it under `metadata:`.');
  }
  const body = lines.slice(close + 1).join('\n');
  if (body.trim() === '') return err(close + 2, 'has an empty body: there are no instructions after the frontmatter', 'Write the instructions below the closing `---`.');
  const skill: ParsedSkill = {
    name, description: description.trim(), allowedTools, userInvocable, modelInvocable: !noModel,
    metadata: metadata as YamlMap, requires: requires.requires, body, bodyLine: close + 2, warnings,
  };
  if (license !== undefined) skill.license = license;
  if (compatibility !== undefined) skill.compatibility = compatibility;
  if (version !== undefined) skill.version = version;
  if (argumentHint !== undefined) skill.argumentHint = argumentHint;
  return { skill };
}

/** `metadata.caduceus.requires`: bins, env, tools and platforms, each a list of names. */
function readRequires(metadata: YamlMap, line: () => number, file: string): { requires: Requires } | { problem: Problem } {
  const requires: Requires = { bins: [], env: [], tools: [], platforms: [] };
  const cad = metadata.caduceus;
  if (cad === undefined || cad === null) return { requires };
  const fail = (message: string, fix: string): { problem: Problem } => ({ problem: { severity: 'error', file, line: line(), field: 'metadata.caduceus', message, fix } });
  if (typeof cad !== 'object' || Array.isArray(cad)) return fail('`metadata.caduceus` must be a mapping', 'Indent `requires:` under `caduceus:`.');
  const req = (cad as YamlMap).requires;
  if (req === undefined || req === null) return { requires };
  if (typeof req !== 'object' || Array.isArray(req)) return fail('`metadata.caduceus.requires` must be a mapping', 'Write `requires:` with `bins:`, `env:`, `tools:` or `platforms:` lists under it.');
  const patterns: Record<keyof Requires, RegExp> = {
    bins: /^[A-Za-z0-9._+-]{1,128}$/, env: /^[A-Za-z_][A-Za-z0-9_]{0,127}$/, tools: /^[a-zA-Z0-9_:.-]{1,128}$/, platforms: /^(linux|darwin|win32|freebsd|openbsd|aix|sunos|android)$/,
  };
  for (const [key, v] of Object.entries(req as YamlMap)) {
    if (!(key in patterns)) return fail(`\`metadata.caduceus.requires.${key}\` is not a known requirement`, 'Use bins, env, tools or platforms.');
    const list: YamlValue[] = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
    const k = key as keyof Requires;
    if (!list.every((x) => typeof x === 'string' && patterns[k].test(x)) || (!Array.isArray(v) && typeof v !== 'string')) {
      return fail(`\`metadata.caduceus.requires.${key}\` must be a list of ${k === 'platforms' ? 'platform names (linux, darwin, win32, ...)' : 'names'}`, `Write \`${key}: [name, ...]\`.`);
    }
    requires[k] = list as string[];
  }
  return { requires };
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
