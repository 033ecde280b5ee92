/**
 * The HTML-to-Markdown/text converter, URL resolution and body classification of the web plugin, as
 * pure functions (the e2e suite drives the same code through the built CLI and a real isolate).
 */
import { describe, expect, it } from 'vitest';
import { htmlToReadable } from './readable.js';
import { parseHtml, MAX_DEPTH } from './html.js';
import { resolveUrl } from './url.js';
import { decodeEntities } from './entities.js';
import { classify } from './page.js';

const md = (html: string, url = 'https://example.com/docs/page.html') => htmlToReadable(html, 'markdown', url).content;
const text = (html: string) => htmlToReadable(html, 'text', 'https://example.com/').content;

describe('htmlToReadable: Markdown', () => {
  it('renders headings, paragraphs, emphasis and absolute links', () => {
    const out = md('<h2>Install <em>now</em></h2><p>Run <strong> npm i </strong>, then read <a href="../guide/start.html?x=1&amp;y=2#top">the guide</a>.</p>');
    expect(out).toBe('## Install *now*\n\nRun **npm i** , then read [the guide](https://example.com/guide/start.html?x=1&y=2#top).');
  });

  it('drops scripts, styles, navigation, forms controls and hidden elements', () => {
    const out = md(`<head><title>T</title><style>p{color:red}</style></head><body>
      <nav><a href="/">Home</a></nav><div role="navigation">Menu</div>
      <script>document.write("<p>injected</p>")</script><noscript>enable js</noscript>
      <p>Visible</p><p hidden>secret one</p><div aria-hidden="true">secret two</div>
      <span style="color:red; display: none">secret three</span><div style="visibility:hidden">secret four</div>
      <form><label>Name <input name=n></label><button>Send</button><select><option>A</select></form>
      <svg><text>svg text</text></svg><iframe src="x">frame</iframe></body>`);
    expect(out).toBe('Visible\n\nName');
  });

  it('keeps only the main content when the page marks it', () => {
    const filler = 'x'.repeat(300);
    const out = md(`<header><h1>Site name</h1></header><aside>Related</aside><main><h1>Article</h1><p>${filler}</p></main><footer>Copyright</footer>`);
    expect(out).toBe(`# Article\n\n${filler}`);
    // A lone <article> counts too; a tiny <main> beside the real text does not win.
    expect(md(`<div>Menu</div><article><p>${filler}</p></article>`)).toBe(filler);
    expect(md(`<main><input placeholder=search>Go</main><div><p>${filler}</p></div>`)).toBe(`Go\n\n${filler}`);
  });

  it('renders nested and ordered lists, with implied </li> and a start number', () => {
    const out = md('<ul><li>one<li>two<ul><li>two a<li>two b</ul><li>three</ul><ol start="4"><li><p>four</p><p>more</p><li>five</ol>');
    expect(out).toBe('- one\n- two\n  - two a\n  - two b\n- three\n\n4. four\n   more\n5. five');
  });

  it('renders code blocks with their language and inline code', () => {
    const out = md('<pre class="highlight"><code class="language-ts">const a = 1;\nif (a &lt; 2) {\n  run();\n}\n</code></pre><p>Use <code>npm test</code> or <code>a`b</code>.</p>');
    expect(out).toBe('```ts\nconst a = 1;\nif (a < 2) {\n  run();\n}\n```\n\nUse `npm test` or `` a`b ``.');
    expect(md('<pre>```\nfenced\n```</pre>')).toBe('````\n```\nfenced\n```\n````');
  });

  it('renders tables with a header row, escaped pipes and colspans; layout tables become blocks', () => {
    const out = md('<table><caption>Prices</caption><thead><tr><th>Item<th>Cost</thead><tbody><tr><td>a|b<td>1<tr><td colspan=2>total 3</table><p>after</p>');
    expect(out).toBe('**Prices**\n\n| Item | Cost |\n| --- | --- |\n| a\\|b | 1 |\n| total 3 |  |\n\nafter');
    expect(md('<table><tr><td><p>Left column</p></td><td><table><tr><td>inner</td></tr></table></td></tr></table>')).toBe('Left column\n\ninner');
  });

  it('renders quotes, definition lists, rules, images and line breaks', () => {
    const out = md('<blockquote><p>Quoted</p><p>twice</p></blockquote><dl><dt>Term</dt><dd>Meaning</dd></dl><hr><p>a<br>b <img src="/i/cat.png" alt="A cat"><img src="/i/spacer.gif"></p>');
    expect(out).toBe('> Quoted\n>\n> twice\n\n**Term**\n: Meaning\n\n---\n\na\nb ![A cat](https://example.com/i/cat.png)');
  });

  it('keeps link text but not the link for anchors, javascript: and data: URLs; resolves against <base>', () => {
    expect(md('<p><a href="#s1">Section</a> <a href="javascript:void(0)">Click</a> <a href="data:text/html,x">Data</a> <a href="mailto:a@b.c">Mail</a></p>'))
      .toBe('Section Click Data [Mail](mailto:a@b.c)');
    expect(md('<head><base href="https://cdn.example.org/v2/"></head><p><a href="api">API</a> <a href="/x (1)">paren</a></p>'))
      .toBe('[API](https://cdn.example.org/v2/api) [paren](https://cdn.example.org/x%20%281%29)');
  });

  it('reads the title from <title>, or og:title', () => {
    expect(htmlToReadable('<title> A &amp; B </title><p>x</p>', 'markdown', 'https://e.com/').title).toBe('A & B');
    expect(htmlToReadable('<meta property="og:title" content="OG title"><p>x</p>', 'markdown', 'https://e.com/').title).toBe('OG title');
    expect(htmlToReadable('<p>x</p>', 'markdown', 'https://e.com/').title).toBeUndefined();
  });

  it('survives broken markup: stray end tags, unclosed tags, < in text, custom elements', () => {
    expect(md('<div><p>one</div></span><p>two <b>bold <i>both</b> after</p>')).toBe('one\n\ntwo **bold *both*** after');
    expect(md('<p>1 < 2 and 3 > 2</p><my-card><h3>Card</h3><p>body</p></my-card>')).toBe('1 < 2 and 3 > 2\n\n### Card\n\nbody');
    expect(md('<p>unterminated <a href="/x">link')).toBe('unterminated [link](https://example.com/x)');
    expect(md('<script>if (a</b) {}</script><p>after script</p>')).toBe('after script');
    expect(md('<html><head><title>T</title>Stray words<p>then a paragraph')).toBe('Stray words\n\nthen a paragraph');
  });

  it('flattens nesting past the depth cap instead of recursing without bound', () => {
    const deep = `${'<div>'.repeat(50_000)}<p>bottom</p>${'</div>'.repeat(50_000)}`;
    expect(md(deep)).toBe('bottom');
    let depth = 0;
    for (let node = parseHtml(deep).children[0]; node && typeof node !== 'string'; node = node.children[0]) depth++;
    expect(depth).toBeLessThanOrEqual(MAX_DEPTH);
  });
});

describe('htmlToReadable: text', () => {
  it('drops Markdown syntax but keeps structure', () => {
    const out = text('<h1>Title</h1><p>See <a href="/a">this</a> and <b>that</b>.</p><ul><li>one</li></ul><table><tr><th>k<th>v<tr><td>a<td>1</table><pre><code class="language-sh">ls -l</code></pre>');
    expect(out).toBe('Title\n\nSee this and that.\n\n- one\n\nk | v\na | 1\n\nls -l');
  });
});

describe('resolveUrl (RFC 3986 §5.4 examples)', () => {
  const base = 'http://a/b/c/d;p?q';
  it.each([
    ['g:h', 'g:h'], ['g', 'http://a/b/c/g'], ['./g', 'http://a/b/c/g'], ['g/', 'http://a/b/c/g/'], ['/g', 'http://a/g'],
    ['//g', 'http://g/'], ['?y', 'http://a/b/c/d;p?y'], ['g?y', 'http://a/b/c/g?y'], ['#s', 'http://a/b/c/d;p?q#s'],
    ['', 'http://a/b/c/d;p?q'], ['.', 'http://a/b/c/'], ['..', 'http://a/b/'], ['../g', 'http://a/b/g'], ['../..', 'http://a/'],
    ['../../../g', 'http://a/g'], ['/./g', 'http://a/g'], ['g.', 'http://a/b/c/g.'], ['g/../h', 'http://a/b/c/h'],
  ])('%s → %s', (ref, want) => {
    expect(resolveUrl(base, ref)).toBe(want);
  });
  it('trims whitespace, drops newlines and encodes spaces', () => {
    expect(resolveUrl('https://e.com/a/', '  b c\n.html ')).toBe('https://e.com/a/b%20c.html');
  });
});

describe('decodeEntities', () => {
  it('decodes named, decimal and hex references, and legacy names without a semicolon in text only', () => {
    expect(decodeEntities('&lt;&#233;&#xe9;&eacute;&hellip;&nbsp;&bogus;&#0;&#x80;')).toBe('<ééé…\u00a0&bogus;\ufffd€');
    expect(decodeEntities('AT&amp;T &copy2024 &amp')).toBe('AT&T ©2024 &');
    expect(decodeEntities('?a=1&copy=2&amp;b', true)).toBe('?a=1&copy=2&b');
  });
});

describe('classify', () => {
  it('goes by content type, and sniffs when it is missing or generic', () => {
    expect(classify('text/html; charset=utf-8', '<p>x')).toBe('html');
    expect(classify('application/json', '{"a":1}')).toBe('text');
    expect(classify('application/ld+json', '{}')).toBe('text');
    expect(classify('text/plain', 'plain')).toBe('text');
    expect(classify('image/png', '\ufffdPNG\r\n')).toBe('binary');
    expect(classify('application/pdf', '%PDF-1.7')).toBe('binary');
    expect(classify('', '<!DOCTYPE html><html>')).toBe('html');
    expect(classify('application/octet-stream', '# Readme\nplain words')).toBe('text');
    expect(classify('', 'PK\u0003\u0004\u0000\u0000')).toBe('binary');
    expect(classify('text/plain', `${'\ufffd'.repeat(50)}abc`)).toBe('binary');
  });
});
