/**
 * Opens the built site from `file://` in headless Chromium and checks what a
 * reader would notice: every page shows, every diagram renders without a
 * mermaid syntax error, every image loads, every relative link points at a
 * file that exists, and search finds an export. Optionally saves screenshots.
 *
 *     npm run docs && npx tsx tools/site/check-site.ts [--screenshots DIR]
 *
 * Needs Chromium (Debian: `apt-get install chromium`; another binary: set
 * CHROMIUM). It talks to the browser over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`: JSON messages separated by NUL bytes on file
 * descriptors 3 and 4), so it needs no WebSocket and no npm package.
 */

import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SITE = path.resolve(__dirname, '../../docs/api');
const SHOTS: Record<string, string> = {
  'front-page': 'index.html',
  'stage5-chapter': 'documents/Stage_5__AES-256-GCM__a_chat_the_server_cannot_read.html',
  'wire-protocol': 'documents/Wire_protocol.html',
};

/** One DevTools protocol connection over Chromium's debugging pipe. */
class DevTools {
  private nextId = 0;
  private buffer = '';
  private readonly waiting = new Map<number, (message: CdpMessage) => void>();

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) !== -1) {
        const message = JSON.parse(this.buffer.slice(0, end)) as CdpMessage;
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) this.waiting.get(message.id)?.(message);
      }
    });
  }

  /** Sends one command (to the page session when `sessionId` is given) and returns its result. */
  send(method: string, params: object = {}, sessionId?: string): Promise<CdpMessage> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (message) => {
        this.waiting.delete(id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message);
      });
      this.input.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });
  }
}

interface CdpMessage {
  id?: number;
  result?: { targetId?: string; sessionId?: string; data?: string; result?: { value?: unknown } };
  error?: { message: string };
}

/** What the page reports about itself once it is shown. */
interface PageReport {
  diagrams: number;
  brokenDiagrams: number;
  unrendered: number;
  brokenImages: string[];
  links: string[];
}

const REPORT = `(() => ({
  diagrams: document.querySelectorAll('div.mermaid svg').length,
  brokenDiagrams: [...document.querySelectorAll('div.mermaid')]
    .filter((d) => /Syntax error|Parse error/i.test(d.textContent)).length,
  unrendered: document.querySelectorAll('code.mermaid, div.mermaid:not([data-processed])').length,
  brokenImages: [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src),
  links: [...document.querySelectorAll('a[href]')].map((a) => a.href).filter((h) => h.startsWith('file:')),
}))()`;

async function main(): Promise<void> {
  const shotsAt = process.argv.indexOf('--screenshots');
  const shotsDir = shotsAt === -1 ? undefined : process.argv[shotsAt + 1];
  if (!existsSync(path.join(SITE, 'index.html')))
    throw new Error('no site: run `npm run docs` first');
  const profile = await mkdtemp(path.join(tmpdir(), 'check-site-'));
  const browser = startChromium(profile);
  const tools = new DevTools(browser.stdio[3] as Writable, browser.stdio[4] as Readable);
  const problems: string[] = [];
  try {
    const { result } = await tools.send('Target.createTarget', { url: 'about:blank' });
    const attached = await tools.send('Target.attachToTarget', {
      targetId: result?.targetId,
      flatten: true,
    });
    const session = attached.result?.sessionId;
    const page = (method: string, params: object = {}) => tools.send(method, params, session);
    const evaluate = async (expression: string): Promise<unknown> =>
      (await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }))
        .result?.result?.value;
    const waitFor = async (expression: string, what: string): Promise<unknown> => {
      // Polls the page: its own scripts (navigation, search index, mermaid) run asynchronously.
      for (let i = 0; i < 300; i++) {
        const value = await evaluate(expression);
        if (value) return value;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    // Navigation is asynchronous: until the URL changes, the old page still
    // answers, so wait for the new URL, then for TypeDoc to show the page.
    const open = async (url: string): Promise<void> => {
      await page('Page.navigate', { url });
      await waitFor(
        `location.href === ${JSON.stringify(url)} && document.readyState === 'complete' && document.body.style.display !== 'none'`,
        `${url} to show`,
      );
    };
    await page('Page.enable');
    await page('Emulation.setDeviceMetricsOverride', {
      width: 1400,
      height: 1000,
      deviceScaleFactor: 1,
      mobile: false,
    });

    const files = [
      'index.html',
      ...(await htmlFiles('documents')),
      'modules/shared_src_framing.html',
    ];
    for (const file of files) {
      await open(pathToFileURL(path.join(SITE, file)).href);
      // Diagrams: wait until mermaid has drawn every block (or drawn an error).
      await waitFor(
        `document.querySelectorAll('code.mermaid, div.mermaid:not([data-processed])').length === 0`,
        `${file}'s diagrams`,
      );
      const report = (await evaluate(REPORT)) as PageReport;
      const missing = report.links
        .map((href) => fileURLToPath(href.replace(/[#?].*$/, '')))
        .filter((target) => !existsSync(target));
      for (const target of new Set(missing)) problems.push(`${file}: link to missing ${target}`);
      for (const src of report.brokenImages) problems.push(`${file}: image did not load: ${src}`);
      if (report.brokenDiagrams > 0)
        problems.push(`${file}: ${report.brokenDiagrams} diagram(s) with a mermaid error`);
      console.log(`ok ${file} (${report.diagrams} diagram(s), ${report.links.length} links)`);
      const shot = Object.entries(SHOTS).find(([, f]) => f === file)?.[0];
      if (shotsDir !== undefined && shot !== undefined) {
        await mkdir(shotsDir, { recursive: true });
        const png = await page('Page.captureScreenshot', { format: 'png' });
        await writeFile(
          path.join(shotsDir, `${shot}.png`),
          Buffer.from(png.result?.data ?? '', 'base64'),
        );
      }
    }

    // Search, as a reader would: open the dialog, type, read the results.
    await open(pathToFileURL(path.join(SITE, 'index.html')).href);
    await evaluate(`document.getElementById('tsd-search-trigger').click()`);
    await waitFor(`document.activeElement?.id === 'tsd-search-input'`, 'the search box');
    await page('Input.insertText', { text: 'LineDecoder' });
    const hits = await waitFor(
      `[...document.querySelectorAll('#tsd-search-results li')].map((li) => li.textContent).join(' | ')`,
      'search results',
    );
    if (!String(hits).includes('LineDecoder'))
      problems.push(`search for LineDecoder found: ${String(hits)}`);
    else console.log(`ok search: ${String(hits)}`);
  } finally {
    browser.kill();
    await new Promise((resolve) => browser.once('exit', resolve));
    await rm(profile, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(problems.map((p) => `FAIL ${p}`).join('\n'));
    process.exitCode = 1;
  } else {
    console.log('site check passed');
  }
}

function startChromium(profile: string): ChildProcess {
  const binary = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(binary))
    throw new Error(`no Chromium at ${binary}: apt-get install chromium, or set CHROMIUM`);
  // The flags keep a headless browser on a closed network from phoning home.
  return spawn(
    binary,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
}

async function htmlFiles(dir: string): Promise<string[]> {
  const names = await readdir(path.join(SITE, dir));
  return names.filter((n) => n.endsWith('.html')).map((n) => `${dir}/${n}`);
}

main().catch((err: unknown) => {
  console.error(`check-site: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
