/**
 * web_search providers. SearXNG (self-hosted metasearch: `GET <url>/search?q=…&format=json`, which the
 * instance must allow in its settings.yml) and the Brave Search API (`GET <url>/res/v1/web/search`,
 * key in the `X-Subscription-Token` header, read from the operator's secret BRAVE_API_KEY). Both answers
 * are normalised to one result shape: title, url, snippet, and when known a date and a source.
 */
import type { PluginContext } from 'caduceus/sdk';
import { BRAVE_DEFAULT_URL, BRAVE_SECRET, excerpt, hostError, webError, type SearchSettings, type WebSettings } from './config.js';
import { decodeEntities } from './entities.js';

export interface SearchHit {
  title: string;
  url: string;
  snippet: string;
  published?: string;
  source?: string;
}

export interface SearchAnswer {
  provider: 'searxng' | 'brave';
  results: SearchHit[];
  answers: string[];
  suggestions: string[];
  note?: string;
}

const SNIPPET_MAX = 500;

/** Text from a provider field that may hold markup (Brave wraps matches in <strong>) and entities. */
function plain(value: unknown, max = SNIPPET_MAX): string {
  if (typeof value !== 'string') return '';
  const text = decodeEntities(value.replace(/<[^>]{0,200}>/g, '')).replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isWebUrl(u: unknown): u is string {
  return typeof u === 'string' && /^https?:\/\//i.test(u);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

async function getJson(ctx: PluginContext, cfg: WebSettings, label: string, url: string, headers: Record<string, string>): Promise<{ status: number; statusText: string; data: unknown; body: string }> {
  let res;
  try {
    res = await ctx.fetch(url, { headers: { accept: 'application/json', 'user-agent': cfg.userAgent, ...headers }, timeoutMs: cfg.timeoutMs, maxBytes: 5 * 1024 * 1024 });
  } catch (err) {
    throw hostError(`web_search could not reach ${label}`, err);
  }
  let data: unknown;
  try {
    data = JSON.parse(res.body);
  } catch {
    data = undefined;
  }
  return { status: res.status, statusText: res.statusText, data, body: res.body };
}

export async function search(ctx: PluginContext, cfg: WebSettings, query: string, limit: number): Promise<SearchAnswer> {
  const s = cfg.search;
  if (!s) {
    throw webError('web:search_not_configured', 'web_search has no search provider. Set plugins.web.search in $CADUCEUS_HOME/config.json, e.g. {"provider":"searxng","url":"http://localhost:8888"} or {"provider":"brave"} (see docs/tools.md).');
  }
  return s.provider === 'brave' ? brave(ctx, cfg, s, query, limit) : searxng(ctx, cfg, s, query, limit);
}

async function searxng(ctx: PluginContext, cfg: WebSettings, s: SearchSettings, query: string, limit: number): Promise<SearchAnswer> {
  const base = trimSlash(s.url!);
  let url = `${base}/search?q=${encodeURIComponent(query)}&format=json`;
  if (s.categories) url += `&categories=${encodeURIComponent(s.categories)}`;
  if (s.language) url += `&language=${encodeURIComponent(s.language)}`;
  if (s.safesearch !== undefined) url += `&safesearch=${s.safesearch}`;
  const label = `SearXNG at ${base}`;
  const r = await getJson(ctx, cfg, label, url, {});
  if (r.status === 403) {
    throw webError('web:search_failed', `${label} refused the JSON format (HTTP 403). Allow it in the instance's settings.yml: search.formats must include json.`);
  }
  if (r.status !== 200 || !r.data || typeof r.data !== 'object') {
    throw webError('web:search_failed', `${label} answered ${r.status} ${r.statusText}${r.data === undefined ? ' without JSON' : ''}: ${excerpt(r.body, 200)}`);
  }
  const d = r.data as {
    results?: unknown[]; answers?: unknown[]; suggestions?: unknown[]; infoboxes?: unknown[]; unresponsive_engines?: unknown[];
  };
  const results: SearchHit[] = [];
  for (const raw of Array.isArray(d.results) ? d.results : []) {
    const x = raw as { url?: unknown; title?: unknown; content?: unknown; publishedDate?: unknown; engine?: unknown; engines?: unknown };
    if (!isWebUrl(x.url)) continue;
    const hit: SearchHit = { title: plain(x.title, 300) || x.url, url: x.url, snippet: plain(x.content) };
    if (typeof x.publishedDate === 'string' && x.publishedDate) hit.published = x.publishedDate;
    const engines = Array.isArray(x.engines) ? x.engines.filter((e): e is string => typeof e === 'string') : typeof x.engine === 'string' ? [x.engine] : [];
    if (engines.length) hit.source = engines.join(', ');
    results.push(hit);
    if (results.length >= limit) break;
  }
  const answers: string[] = [];
  for (const a of Array.isArray(d.answers) ? d.answers : []) {
    // Older instances send strings, newer ones objects with an `answer` (and a `url`).
    const text = typeof a === 'string' ? plain(a) : plain((a as { answer?: unknown })?.answer);
    if (text) answers.push(text);
  }
  for (const ib of Array.isArray(d.infoboxes) ? d.infoboxes.slice(0, 2) : []) {
    const box = ib as { infobox?: unknown; content?: unknown };
    const text = plain(box.content);
    if (text) answers.push(typeof box.infobox === 'string' && box.infobox ? `${plain(box.infobox, 100)}: ${text}` : text);
  }
  const suggestions = (Array.isArray(d.suggestions) ? d.suggestions : []).filter((x): x is string => typeof x === 'string').slice(0, 5).map((x) => plain(x, 200));
  const answer: SearchAnswer = { provider: 'searxng', results, answers: answers.slice(0, 5), suggestions };
  if (!results.length) {
    const down = (Array.isArray(d.unresponsive_engines) ? d.unresponsive_engines : [])
      .map((e) => (Array.isArray(e) ? e.filter((p) => typeof p === 'string').join(': ') : typeof e === 'string' ? e : ''))
      .filter(Boolean);
    answer.note = down.length ? `no results; engines that did not answer: ${down.slice(0, 5).join('; ')}` : 'no results';
  }
  return answer;
}

const BRAVE_SAFESEARCH = ['off', 'moderate', 'strict'] as const;

async function brave(ctx: PluginContext, cfg: WebSettings, s: SearchSettings, query: string, limit: number): Promise<SearchAnswer> {
  let key: string | null;
  try {
    key = await ctx.secrets.get(BRAVE_SECRET);
  } catch (err) {
    throw hostError(`web_search could not read the secret ${BRAVE_SECRET} for Brave Search`, err);
  }
  if (!key) {
    throw webError('web:search_key_missing', `web_search uses Brave Search, which needs an API key, and the secret ${BRAVE_SECRET} is not set. Store it: printf %s "$KEY" | caduceus secrets set ${BRAVE_SECRET}`);
  }
  const base = trimSlash(s.url ?? BRAVE_DEFAULT_URL);
  let url = `${base}/res/v1/web/search?q=${encodeURIComponent(query)}&count=${limit}`;
  if (s.country) url += `&country=${encodeURIComponent(s.country)}`;
  if (s.language) url += `&search_lang=${encodeURIComponent(s.language)}`;
  if (s.safesearch !== undefined) url += `&safesearch=${BRAVE_SAFESEARCH[s.safesearch]}`;
  const label = `Brave Search at ${base}`;
  const r = await getJson(ctx, cfg, label, url, { 'x-subscription-token': key });
  if (r.status !== 200 || !r.data || typeof r.data !== 'object') {
    const e = (r.data as { error?: { code?: unknown; detail?: unknown } } | undefined)?.error;
    const why = e ? `${typeof e.code === 'string' ? e.code : 'error'}: ${plain(e.detail, 300)}` : excerpt(r.body, 200);
    const fix = r.status === 401 || r.status === 403 ? ` Check the key in the secret ${BRAVE_SECRET}.`
      : r.status === 429 ? ' The plan\'s rate limit was reached; retry later.' : '';
    throw webError('web:search_failed', `${label} answered ${r.status} ${r.statusText} (${why}).${fix}`);
  }
  const d = r.data as { web?: { results?: unknown[] }; query?: { altered?: unknown } };
  const results: SearchHit[] = [];
  for (const raw of Array.isArray(d.web?.results) ? d.web.results : []) {
    const x = raw as { url?: unknown; title?: unknown; description?: unknown; extra_snippets?: unknown; page_age?: unknown; age?: unknown; profile?: { name?: unknown }; meta_url?: { hostname?: unknown } };
    if (!isWebUrl(x.url)) continue;
    let snippet = plain(x.description);
    if (!snippet && Array.isArray(x.extra_snippets)) snippet = plain(x.extra_snippets.find((e) => typeof e === 'string'));
    const hit: SearchHit = { title: plain(x.title, 300) || x.url, url: x.url, snippet };
    const published = typeof x.page_age === 'string' ? x.page_age : typeof x.age === 'string' ? x.age : '';
    if (published) hit.published = published;
    const source = typeof x.profile?.name === 'string' ? x.profile.name : typeof x.meta_url?.hostname === 'string' ? x.meta_url.hostname : '';
    if (source) hit.source = plain(source, 100);
    results.push(hit);
    if (results.length >= limit) break;
  }
  const answer: SearchAnswer = { provider: 'brave', results, answers: [], suggestions: [] };
  const altered = typeof d.query?.altered === 'string' ? d.query.altered : '';
  if (altered) answer.note = `Brave searched for "${plain(altered, 200)}" instead`;
  else if (!results.length) answer.note = 'no results';
  return answer;
}
