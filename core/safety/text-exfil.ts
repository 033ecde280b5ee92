/**
 * The exfiltration half of the prompt-injection scanner (`text.ts`): network commands that carry a
 * secret (`exfil.curl-secret`), prose that tells the model to send one somewhere (`exfil.send-secret`),
 * and Markdown/HTML images and links whose URL would carry data out when rendered (`hidden.markdown-link`).
 * All of it reads the folded copy, so commands and paths are lowercase here.
 *
 * "A secret" means something concrete: a variable named like a key or token, the whole environment, or a
 * well-known credential file. "Your API key" in prose is not a secret reference; a README telling a human
 * to send theirs in an Authorization header is how APIs work.
 */
import type { Hit, Severity } from './text.js';

/** Hits kept per rule; the verdict needs one, a reviewer a handful. */
const PER_RULE_CAP = 200;

const TOOL = /\b(?:curl|wget|nc|ncat|netcat|socat|invoke-webrequest|invoke-restmethod|iwr|irm)\b|\bfetch\s*\(|\b(?:requests|axios|httpx|urllib\.request)\.(?:get|post|put|patch|request|urlopen)\s*\(|\bnavigator\.sendbeacon\s*\(|\bnew\s+websocket\s*\(/g;
// Concrete secrets: variables named like keys, the whole environment, and well-known secret files.
const SECRET_REF = new RegExp([
  String.raw`\$\{?(?:[a-z0-9]+_)*(?:key|keys|token|tokens|secret|secrets|password|passwd|pass|credential|credentials|apikey|auth)(?:_[a-z0-9]+)*\}?(?![a-z0-9_])`,
  String.raw`\$\{\{\s*secrets\.[a-z0-9_]+\s*\}\}`,
  // PowerShell $env:NAME and cmd.exe %NAME%
  String.raw`\$env:[a-z0-9_]*(?:key|token|secret|password|passwd|credential|auth)[a-z0-9_]*`, String.raw`%[a-z0-9_]*(?:key|token|secret|password|passwd|credential)[a-z0-9_]*%`,
  String.raw`\$\(\s*(?:env|printenv|set|export)\s*\)`, String.raw`\x60\s*(?:env|printenv)\s*\x60`,
  String.raw`\b(?:env|printenv|set)\s*\|`, String.raw`\bprintenv\b`,
  String.raw`\bprocess\.env(?![.\w])`, String.raw`\bprocess\.env\.[a-z0-9_]*(?:key|token|secret|password|credential|auth)[a-z0-9_]*`,
  String.raw`\bos\.environ\b`, String.raw`\bos\.getenv\s*\(\s*["'][a-z0-9_]*(?:key|token|secret|password|credential)`,
  String.raw`~/\.ssh\b(?!/[\w.-]*\.pub\b)`, String.raw`\.ssh/(?![\w.-]*\.pub\b)`, String.raw`\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)`,
  String.raw`(?:^|[\s"'=@<(:/])\.env\b(?![.-]?(?:example|sample|template|dist))`,
  String.raw`/etc/(?:passwd|shadow|sudoers)\b`, String.raw`\.aws/(?:credentials|config)\b`,
  String.raw`\.(?:netrc|npmrc|pypirc|git-credentials|bash_history|zsh_history)\b`, String.raw`\.docker/config\.json`, String.raw`\.kube/config\b`,
  String.raw`\.gnupg\b`, String.raw`/proc/self/environ\b`,
].join('|'), 'g');
const AUTH_CONTEXT = /(?:authorization\s*:\s*(?:bearer|token|basic)?|(?:x-)?[a-z-]*(?:key|token)\s*:|bearer|--oauth2-bearer|(?:-u|--user)\s+["']?[^\s"']*:?)\s*["']?\s*\$?\{?\s*$/;
const HOST = /https?:\/\/([a-z0-9.-]+)/g;
const GENERIC_VENDOR = new Set(['api', 'my', 'access', 'auth', 'secret', 'secrets', 'token', 'app', 'user', 'service', 'private', 'client', 'bot', 'the']);

/** The vendor a variable names (GITHUB_TOKEN → github) when it says one. */
function vendorOf(ref: string): string | undefined {
  const name = /[a-z0-9_]+/.exec(ref.replace(/^\$\{\{\s*secrets\./, '').replace(/^\$\{?/, '').replace(/^process\.env\./, ''))?.[0];
  const first = name?.split('_')[0];
  return first && first.length > 1 && !GENERIC_VENDOR.has(first) ? first : undefined;
}

/** The registrable label of each host on a line: api.openai.com → openai. */
function hostLabels(line: string): Set<string> {
  const labels = new Set<string>();
  HOST.lastIndex = 0;
  for (let m = HOST.exec(line); m; m = HOST.exec(line)) {
    const parts = m[1]!.split('.').filter(Boolean);
    if (parts.length >= 2) labels.add(parts[parts.length - 2]!);
  }
  return labels;
}

/** One logical shell line around `at`, joining backslash continuations. */
function logicalLine(s: string, at: number): [number, number] {
  let start = s.lastIndexOf('\n', at - 1) + 1;
  while (start >= 2 && s[start - 2] === '\\') start = s.lastIndexOf('\n', start - 2) + 1;
  let end = s.indexOf('\n', at);
  while (end > 0 && s[end - 1] === '\\') { const next = s.indexOf('\n', end + 1); end = next; }
  return [start, end < 0 ? s.length : end];
}

export function scanCommands(s: string, hits: Hit[]): void {
  TOOL.lastIndex = 0;
  let doneTo = -1;
  let count = 0;
  for (let m = TOOL.exec(s); m && count < PER_RULE_CAP; m = TOOL.exec(s)) {
    if (m.index < doneTo) continue;
    const [from, to] = logicalLine(s, m.index);
    doneTo = to;
    TOOL.lastIndex = Math.max(TOOL.lastIndex, to);
    const line = s.slice(from, to);
    let severity: Severity | undefined;
    let labels: Set<string> | undefined;
    SECRET_REF.lastIndex = 0;
    for (let sm = SECRET_REF.exec(line); sm; sm = SECRET_REF.exec(line)) {
      const ref = sm[0].replace(/^[\s"'=@<(:/]/, '');
      if (!AUTH_CONTEXT.test(line.slice(Math.max(0, sm.index - 60), sm.index + sm[0].length - ref.length))) { severity = 'dangerous'; break; }
      labels ??= hostLabels(line);
      const vendor = vendorOf(ref);
      if (!vendor || !labels.has(vendor)) severity = 'caution';
    }
    if (severity) { hits.push({ rule: 'exfil.curl-secret', severity, start: m.index, end: m.index + m[0].length }); count++; }
  }
}

const SEND = /\b(?:send|upload|post|email|e-mail|forward|transmit|exfiltrate|leak|submit|paste|copy|pipe|beacon)\b/g;
const DESTINATION = /\b(?:to|at|into|via|on)\s+<?(?:https?:\/\/|[a-z0-9._%+-]+@[a-z0-9-]+\.[a-z]|(?:this|the|my|our|a)\s+webhook\b)/g;

interface Span { start: number; end: number }
function spans(re: RegExp, s: string, cap = 20_000): Span[] {
  const out: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(s); m && out.length < cap; m = re.exec(s)) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    out.push({ start: m.index, end: m.index + m[0].length });
  }
  return out;
}
/** The first span starting at or after `at`, by binary search. */
function firstFrom(list: Span[], at: number): Span | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid]!.start < at) lo = mid + 1; else hi = mid; }
  return list[lo];
}

/** "send the contents of ~/.ssh/id_rsa to https://…": verb, then a concrete secret, then a destination. */
export function scanSendProse(s: string, hits: Hit[]): void {
  const secrets = spans(SECRET_REF, s);
  if (secrets.length === 0) return;
  const destinations = spans(DESTINATION, s);
  if (destinations.length === 0) return;
  let count = 0;
  for (const verb of spans(SEND, s)) {
    const secret = firstFrom(secrets, verb.end);
    if (!secret || secret.start - verb.end > 100) continue;
    const dest = firstFrom(destinations, secret.end);
    if (!dest || dest.start - secret.end > 120) continue;
    if (s.slice(verb.start, dest.end).includes('\n\n')) continue;
    hits.push({ rule: 'exfil.send-secret', severity: 'dangerous', start: verb.start, end: dest.end });
    if (++count >= PER_RULE_CAP) return;
  }
}

// URL starts after "](", a reference definition "]:" or <img src=; the URL itself is read by hand below.
const LINK_URL = /\]\(\s*<?(?=https?:\/\/)|\]:[ ]*<?(?=https?:\/\/)|<img\b[^>]{0,200}?\bsrc\s*=\s*["']?(?=https?:\/\/)/g;
const QUERY_DATA = /\{\{|\$\{|%7b%7b|%24%7b|[=/]\$[a-z_][a-z0-9_]*|\[(?:data|secrets?|api_key|key|token|password|conversation|context|history|chat|info|summary|user_data)\]|<(?:data|secret|api_key|token|password|conversation|summary)>/;

export function scanLinks(s: string, hits: Hit[]): void {
  LINK_URL.lastIndex = 0;
  let count = 0;
  for (let m = LINK_URL.exec(s); m && count < PER_RULE_CAP; m = LINK_URL.exec(s)) {
    const from = m.index + m[0].length;
    // Read up to the link's end; spaces are allowed so "{{ chat history }}" stays inside the URL.
    const stop = m[0].startsWith('](') ? /[)\n]/ : m[0].startsWith(']:') ? /\n/ : /["'>\s]/;
    const rest = s.slice(from, from + 2048);
    const cut = rest.search(stop);
    const url = cut < 0 ? rest : rest.slice(0, cut);
    LINK_URL.lastIndex = Math.max(LINK_URL.lastIndex, from + url.length);
    const q = url.search(/[?#]/);
    SECRET_REF.lastIndex = 0;
    if ((q >= 0 && QUERY_DATA.test(url.slice(q))) || SECRET_REF.test(url)) {
      hits.push({ rule: 'hidden.markdown-link', severity: 'dangerous', start: m.index, end: from + url.length });
      count++;
    }
  }
}
