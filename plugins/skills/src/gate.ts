/**
 * Two checks before a skill reaches a model. Gating: a skill whose `metadata.caduceus.requires` names a
 * program, an environment variable, a tool or a platform this host lacks is left out of the prompt index
 * and the slash commands (`ctx.probe` answers yes/no, never values). Scanning: text that will be handed to
 * a model as instructions (a body, a support file, a description) goes through the host's injection
 * scanner; a `dangerous` verdict is refused, a `caution` is passed on with a note. Scans are cached by
 * content, so a skill is scanned once per version.
 */
import type { PluginContext, TextScanResult } from 'caduceus/sdk';
import type { Requires } from './skill.js';

/** Characters per scanText call: the host takes at most 1 MiB of UTF-8. */
const SCAN_CHUNK = 256 * 1024;
const CACHE_MAX = 4096;

export class Gate {
  private readonly scans = new Map<string, TextScanResult>();

  constructor(private readonly ctx: PluginContext) {}

  /** For each requirement set, what is missing here (empty when the skill can be used). */
  async missing(list: Requires[]): Promise<string[][]> {
    const want = { bins: new Set<string>(), env: new Set<string>(), tools: new Set<string>() };
    for (const r of list) {
      for (const b of r.bins) want.bins.add(b);
      for (const e of r.env) want.env.add(e);
      for (const t of r.tools) want.tools.add(t);
    }
    const anyPlatform = list.some((r) => r.platforms.length > 0);
    const have = { platform: '', bins: {} as Record<string, boolean>, env: {} as Record<string, boolean>, tools: {} as Record<string, boolean> };
    const bins = [...want.bins];
    const env = [...want.env];
    const tools = [...want.tools];
    if (!anyPlatform && bins.length + env.length + tools.length === 0) return list.map(() => []);
    const rounds = Math.max(1, Math.ceil(Math.max(bins.length, env.length, tools.length) / 64));
    for (let i = 0; i < rounds * 64; i += 64) {
      const r = await this.ctx.probe({ bins: bins.slice(i, i + 64), env: env.slice(i, i + 64), tools: tools.slice(i, i + 64) });
      have.platform = r.platform;
      Object.assign(have.bins, r.bins);
      Object.assign(have.env, r.env);
      Object.assign(have.tools, r.tools);
    }
    return list.map((r) => [
      ...(r.platforms.length && !r.platforms.includes(have.platform) ? [`platform ${r.platforms.join('|')} (this is ${have.platform})`] : []),
      ...r.bins.filter((b) => !have.bins[b]).map((b) => `program '${b}' on PATH`),
      ...r.env.filter((e) => !have.env[e]).map((e) => `environment variable ${e}`),
      ...r.tools.filter((t) => !have.tools[t]).map((t) => `tool '${t}'`),
    ]);
  }

  /** The scanner's verdict on text about to reach a model (the most severe of its pieces). */
  async scan(text: string): Promise<TextScanResult> {
    const k = `${text.length}:${fnv(text)}`;
    const hit = this.scans.get(k);
    if (hit) return hit;
    let worst: TextScanResult = { verdict: 'safe', findings: [] };
    for (let i = 0; i < text.length; i += SCAN_CHUNK) {
      const r = await this.ctx.safety.scanText(text.slice(i, i + SCAN_CHUNK));
      const rank = (v: string) => (v === 'dangerous' ? 2 : v === 'caution' ? 1 : 0);
      if (rank(r.verdict) > rank(worst.verdict)) worst = { ...r, findings: [...r.findings] };
      else if (r.findings.length) worst = { ...worst, findings: [...worst.findings, ...r.findings].slice(0, 100) };
    }
    if (this.scans.size >= CACHE_MAX) this.scans.clear();
    this.scans.set(k, worst);
    return worst;
  }
}

/** 32-bit FNV-1a over UTF-16 code units: a cache key, not a security hash. */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
