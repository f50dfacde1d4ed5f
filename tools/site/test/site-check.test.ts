/**
 * The parts of the browser check that need no browser: the static server it reads the
 * site through, and the rules that turn a page's measurements into failures. (The
 * check itself runs against the built site in CI: `npm run docs:browser-check`.)
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { serveSite, type SiteServer } from '../serve';
import { judge, MIN_TEXT, type PageAudit } from '../site-rules';

/** GET with a raw path, so `..` reaches the server as sent, unnormalised by a URL parser. */
function get(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    request({ hostname, port, path: rawPath }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('serveSite', () => {
  let dir: string;
  let site: SiteServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'serve-site-'));
    await mkdir(path.join(dir, 'site', 'documents'), { recursive: true });
    await writeFile(path.join(dir, 'site', 'index.html'), '<p>front</p>');
    await writeFile(path.join(dir, 'site', 'documents', 'a b.html'), '<p>chapter</p>');
    await writeFile(path.join(dir, 'secret.txt'), 'outside the site');
    site = await serveSite(path.join(dir, 'site'));
  });
  afterAll(async () => {
    await site.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves the site root, and files with escaped names', async () => {
    expect(await get(site.url, '/')).toEqual({ status: 200, body: '<p>front</p>' });
    expect(await get(site.url, '/documents/a%20b.html')).toEqual({
      status: 200,
      body: '<p>chapter</p>',
    });
  });

  test('answers 404 for a missing file and a folder', async () => {
    expect((await get(site.url, '/missing.html')).status).toBe(404);
    expect((await get(site.url, '/documents')).status).toBe(404);
  });

  test('never serves a file outside the site, however the path is spelled', async () => {
    for (const raw of ['/../secret.txt', '/%2e%2e/secret.txt', '/documents/..%2f..%2fsecret.txt'])
      expect(await get(site.url, raw)).toEqual({ status: 404, body: '' });
  });
});

describe('judge', () => {
  const readable: PageAudit = {
    viewport: 1280,
    pageWidth: 1280,
    column: 960,
    overflowing: [],
    wrappingCode: [],
    diagrams: 1,
    widestDiagram: 1990,
    failedDiagrams: [],
    shrunkDiagrams: [],
    smallestDiagramText: { px: MIN_TEXT, text: '1' },
    tables: [{ width: 900, shown: 900 }],
    brokenImages: [],
    links: [],
  };

  test('a page that reads well has no problems', () => {
    expect(judge(readable, 1)).toEqual([]);
  });

  test.each<[string, Partial<PageAudit>, number, RegExp]>([
    ['the page scrolls sideways', { pageWidth: 1400 }, 1, /scrolls sideways: 1400 px/],
    ['a block sticks out', { overflowing: ['table spans 280..1500'] }, 1, /sticks out.*table/],
    ['code wraps', { wrappingCode: ['code.sh "npm run"'] }, 1, /code block wraps/],
    ['a mermaid block stayed code', { diagrams: 0 }, 1, /0 of 1 mermaid block/],
    ['mermaid drew an error', { failedDiagrams: ['div.mermaid'] }, 1, /not drawn as an SVG/],
    ['a diagram was shrunk', { shrunkDiagrams: ['div.mermaid'] }, 1, /shrunk/],
    ['small text', { smallestDiagramText: { px: 3.7, text: '1' } }, 1, /3\.7 px \(under 12\)/],
    ['an image is broken', { brokenImages: ['x.png'] }, 1, /image did not load: x\.png/],
  ])('reports it when %s', (_what, change, expected, message) => {
    const problems = judge({ ...readable, ...change }, expected);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});
