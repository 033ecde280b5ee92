/**
 * The ollama-models plugin: lists the models of the Ollama server on this machine through `ctx.fetch`.
 * Ollama listens on loopback, which the kernel refuses to fetch unless a grant names the host exactly, so
 * the manifest asks for `net:127.0.0.1:11434` and nothing wider. Fetch failures become messages that say
 * what to do; permission errors are rethrown unchanged so their code and the grant command survive.
 */
import { definePlugin, defineTool, z, type PluginContext } from 'caduceus/sdk';

const OLLAMA = '127.0.0.1:11434';
const TAGS_URL = `http://${OLLAMA}/api/tags`;

interface Model {
  name: string;
  sizeBytes: number;
  modifiedAt: string;
  family?: string;
}

/** An error the caller can match on `details.pluginError.code`. */
function fail(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

async function fetchTags(ctx: PluginContext): Promise<unknown> {
  let res;
  try {
    res = await ctx.fetch(TAGS_URL, { headers: { accept: 'application/json' }, timeoutMs: 5_000, maxBytes: 4 * 1024 * 1024 });
  } catch (err) {
    const { code, message = '' } = err as { code?: string; message?: string };
    if (code === 'CAD_ERR_NET_FAILED' && message.includes('ECONNREFUSED')) {
      throw fail('OLLAMA_NOT_RUNNING', `Ollama is not running on ${OLLAMA}; start it with \`ollama serve\`.`);
    }
    if (code === 'CAD_ERR_NET_FAILED') {
      throw fail('OLLAMA_UNREACHABLE', `Could not reach Ollama on ${OLLAMA} (${message}). Check that \`ollama serve\` is running and answering.`);
    }
    // CAD_ERR_PERMISSION_DENIED, CAD_ERR_NET_BLOCKED: the kernel's message already names the fix.
    throw err;
  }
  if (res.status < 200 || res.status > 299) {
    throw fail('OLLAMA_HTTP', `Ollama on ${OLLAMA} answered GET /api/tags with HTTP ${res.status} ${res.statusText}.`);
  }
  try {
    return JSON.parse(res.body);
  } catch {
    throw fail('OLLAMA_BAD_RESPONSE', `Ollama on ${OLLAMA} answered GET /api/tags with something that is not JSON; is another program listening on port 11434?`);
  }
}

/** Ollama's documented `{ models: [{ name, modified_at, size, details: { family } }] }`, checked field by field. */
function toModels(body: unknown): Model[] {
  const list = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) throw fail('OLLAMA_BAD_RESPONSE', `Ollama on ${OLLAMA} answered GET /api/tags without a "models" array.`);
  return list.map((raw: unknown, i) => {
    const m = (raw ?? {}) as { name?: unknown; size?: unknown; modified_at?: unknown; details?: { family?: unknown } | null };
    if (typeof m.name !== 'string' || typeof m.size !== 'number' || typeof m.modified_at !== 'string') {
      throw fail('OLLAMA_BAD_RESPONSE', `Ollama on ${OLLAMA} answered GET /api/tags with models[${i}] lacking a string "name", a number "size" or a string "modified_at".`);
    }
    const model: Model = { name: m.name, sizeBytes: m.size, modifiedAt: m.modified_at };
    if (typeof m.details?.family === 'string' && m.details.family) model.family = m.details.family;
    return model;
  });
}

const models = defineTool({
  name: 'ollama_models',
  description: 'Lists the models installed in the local Ollama server (127.0.0.1:11434) with their size, last change and family. Optionally only those whose name contains a filter text.',
  input: z.object({
    filter: z.string().min(1).max(200).optional().describe('only models whose name contains this text (case-insensitive)'),
  }),
  output: z.object({
    models: z.array(z.object({
      name: z.string(),
      sizeBytes: z.int().min(0),
      modifiedAt: z.string(),
      family: z.string().optional(),
    })),
  }),
  mutating: false,
  idempotent: true,
  timeoutMs: 10_000,
  maxResultBytes: 256 * 1024,
  handler: async ({ filter }, ctx) => {
    const all = toModels(await fetchTags(ctx));
    const needle = filter?.toLowerCase();
    return { models: needle === undefined ? all : all.filter((m) => m.name.toLowerCase().includes(needle)) };
  },
});

export default definePlugin({ tools: [models] });
