/**
 * Reference resolution (RFC 3986 §5.2) for links and images on a fetched page. The isolate has no `URL`
 * class, and a link is only useful to a model as an absolute address: relative hrefs are resolved
 * against the page's final URL (after redirects) or its `<base href>`.
 */

interface Parts {
  scheme: string | undefined;
  authority: string | undefined;
  path: string;
  query: string | undefined;
  fragment: string | undefined;
}

const URI = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;

function parse(ref: string): Parts {
  const m = URI.exec(ref)!;
  return { scheme: m[1]?.toLowerCase(), authority: m[2], path: m[3] ?? '', query: m[4], fragment: m[5] };
}

function removeDotSegments(path: string): string {
  const input = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const seg = input[i]!;
    const last = i === input.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      if (out.length > 1 || (out.length === 1 && out[0] !== '')) out.pop();
      if (last) out.push('');
    } else {
      out.push(seg);
    }
  }
  let result = out.join('/');
  if (path.startsWith('/') && !result.startsWith('/')) result = `/${result}`;
  return result;
}

function merge(base: Parts, refPath: string): string {
  if (base.authority !== undefined && base.path === '') return `/${refPath}`;
  const cut = base.path.lastIndexOf('/');
  return cut < 0 ? refPath : base.path.slice(0, cut + 1) + refPath;
}

function serialise(p: Parts): string {
  let s = '';
  if (p.scheme !== undefined) s += `${p.scheme}:`;
  if (p.authority !== undefined) s += `//${p.authority}`;
  s += p.path;
  if (p.query !== undefined) s += `?${p.query}`;
  if (p.fragment !== undefined) s += `#${p.fragment}`;
  return s;
}

/**
 * Resolves `ref` against the absolute `base`. Surrounding whitespace and embedded tabs and newlines are
 * dropped first (as browsers do); spaces inside are percent-encoded so the result stays one token.
 */
export function resolveUrl(base: string, ref: string): string {
  const cleaned = ref.trim().replace(/[\t\n\r]/g, '').replace(/ /g, '%20');
  const r = parse(cleaned);
  const b = parse(base);
  let t: Parts;
  if (r.scheme !== undefined) {
    t = { ...r, path: removeDotSegments(r.path) };
  } else if (r.authority !== undefined) {
    t = { ...r, scheme: b.scheme, path: removeDotSegments(r.path) };
  } else if (r.path === '') {
    t = { scheme: b.scheme, authority: b.authority, path: b.path, query: r.query ?? b.query, fragment: r.fragment };
  } else {
    const path = r.path.startsWith('/') ? r.path : merge(b, r.path);
    t = { scheme: b.scheme, authority: b.authority, path: removeDotSegments(path), query: r.query, fragment: r.fragment };
  }
  if ((t.scheme === 'http' || t.scheme === 'https') && t.path === '' && t.authority !== undefined) t.path = '/';
  return serialise(t);
}

/** The scheme of an absolute URL, lower-cased, or undefined for a relative reference. */
export function schemeOf(url: string): string | undefined {
  return parse(url.trim()).scheme;
}
