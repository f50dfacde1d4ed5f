/**
 * The course site in a real browser: `npm run docs:browser-check` (after `npm run docs`).
 *
 * Serves docs/api/ on 127.0.0.1 (serve.ts), opens it in headless Chromium (browser.ts)
 * and checks what a reader would notice. On every page (site-pages.ts), at 1280 px wide
 * and 100% zoom, measured inside the page by page-audit.js and judged by site-rules.ts:
 *
 * - every ```mermaid block became an SVG at its natural size, with no text under 12 px;
 * - nothing is wider than the window or sticks out of the text column into the
 *   navigation: wide code, tables and diagrams scroll inside their own box;
 * - code blocks do not wrap; the text column is wide enough for the chapters' tables;
 * - no console error, failed request or broken image; every link within the site leads to
 *   a file, and to an anchor that exists in it.
 *
 * Then the pages a reader starts from (the front page, a chapter, the wire protocol and
 * the page with the widest diagram) again on a phone, a tablet and a wide screen, with
 * a screenshot of each at each width; and, using the site (interactions.ts): a click
 * enlarges a diagram, a diagram page draws from `file://`, search finds an export.
 *
 *     npm run docs && npm run docs:browser-check [-- --screenshots DIR]
 *
 * Screenshots go to tools/site/screenshots/ (git-ignored) unless --screenshots says
 * otherwise. Chromium is /usr/bin/chromium (Debian: apt-get install chromium) or $CHROMIUM.
 */

import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { parseOptions, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';
import type { Page } from 'playwright-core';
import { openBrowser, type Viewport } from './browser';
import { checkEnlarge, checkOffline, checkSearch } from './interactions';
import { serveSite } from './serve';
import { showPage, SITE, siteFiles, watchErrors } from './site-pages';
import { judge, MIN_COLUMN, type PageAudit } from './site-rules';

const AUDIT_SCRIPT = readFileSync(path.join(__dirname, 'page-audit.js'), 'utf8');

/** The widths a reader brings: a laptop at 100% zoom (every page), a phone, a tablet, a wide screen. */
const DESKTOP: Viewport = { name: 'desktop', width: 1280, height: 800 };
const PHONE: Viewport = { name: 'phone', width: 390, height: 844 };
const TABLET: Viewport = { name: 'tablet', width: 1024, height: 768 };
const WIDE: Viewport = { name: 'wide', width: 1600, height: 900 };

const USAGE = `usage: npm run docs:browser-check [-- --screenshots DIR]

Opens the built site (npm run docs) in headless Chromium and checks that
diagrams are drawn and readable, nothing is wider than the window and no
page logs an error. Screenshots go to tools/site/screenshots/ unless DIR.`;

async function main(): Promise<number | void> {
  const options = parseOptions(process.argv.slice(2), { screenshots: { type: 'string' } });
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const shots = path.resolve(options.screenshots ?? path.join(__dirname, 'screenshots'));
  if (!existsSync(path.join(SITE, 'index.html')))
    throw new Error('no site in docs/api: run `npm run docs` first');
  await mkdir(shots, { recursive: true });

  const problems: string[] = [];
  const server = await serveSite(SITE);
  const browser = await openBrowser(DESKTOP);
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const files = siteFiles();
    const audits = new Map<string, PageAudit>();
    for (const file of files)
      audits.set(file, await audit(page, server.url, file, DESKTOP, problems));
    const column = audits.get('index.html')?.column ?? 0;
    if (column < MIN_COLUMN)
      problems.push(`index.html @desktop: text column ${column} px, under ${MIN_COLUMN} px`);

    const starting = startingPages(files, audits);
    for (const viewport of [DESKTOP, PHONE, TABLET, WIDE]) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      for (const [name, [file, focus]] of Object.entries(starting)) {
        if (viewport === DESKTOP) await showPage(page, server.url + file, file);
        else await audit(page, server.url, file, viewport, problems);
        await screenshot(page, path.join(shots, `${name}-${viewport.name}.png`), focus);
      }
    }
    await page.setViewportSize({ width: DESKTOP.width, height: DESKTOP.height });
    const enlarged = path.join(shots, 'diagram-enlarged.png');
    problems.push(...(await checkEnlarge(page, server.url, starting.diagram[0], enlarged)));
    problems.push(...(await checkOffline(browser.context, starting.diagram[0])));
    problems.push(...(await checkSearch(page, server.url)));
    console.log(`screenshots in ${path.relative(process.cwd(), shots) || '.'}/`);
  } finally {
    await browser.close();
    await server.close();
  }
  if (problems.length > 0) {
    console.error(problems.map((p) => `FAIL ${p}`).join('\n'));
    process.exitCode = 1;
  } else {
    console.log('site check passed');
  }
}

/** Opens one page, measures it, adds what is wrong with it to `problems`. */
async function audit(
  page: Page,
  base: string,
  file: string,
  viewport: Viewport,
  problems: string[],
): Promise<PageAudit> {
  const watch = watchErrors(page);
  try {
    const expected = await showPage(page, base + file, file);
    const result = (await page.evaluate(`${AUDIT_SCRIPT}; siteAudit()`)) as PageAudit;
    const found = [...watch.errors, ...judge(result, expected)];
    for (const link of result.links) {
      if (link.startsWith(base)) found.push(...brokenLink(new URL(link)));
    }
    const where = `${file} @${viewport.name}`;
    problems.push(...found.map((problem) => `${where}: ${problem}`));
    const text = result.smallestDiagramText
      ? `, smallest diagram text ${result.smallestDiagramText.px.toFixed(1)} px`
      : '';
    const status = found.length === 0 ? 'ok' : 'FAIL';
    console.log(
      `${status} ${where}: column ${result.column} px, ${result.diagrams} diagram(s)${text}`,
    );
    return result;
  } finally {
    watch.stop();
  }
}

const pageText = new Map<string, string>();

/** What is wrong with a link within the site: a missing file, or a missing #anchor in it. */
function brokenLink(url: URL): string[] {
  const target = path.join(SITE, decodeURIComponent(url.pathname));
  const name = path.relative(SITE, target);
  if (!existsSync(target)) return [`link to missing ${name}`];
  const anchor = decodeURIComponent(url.hash.slice(1));
  if (anchor === '' || !target.endsWith('.html')) return [];
  if (!pageText.has(target)) pageText.set(target, readFileSync(target, 'utf8'));
  const html = pageText.get(target)!;
  return html.includes(`id="${anchor}"`) || html.includes(`name="${anchor}"`)
    ? []
    : [`link to ${name}#${anchor}, which has no such anchor`];
}

/**
 * The pages a reader starts from, each with what its screenshot scrolls to. The diagram
 * page is the one whose diagram is widest: the hardest to keep readable.
 */
function startingPages(files: string[], audits: Map<string, PageAudit>) {
  const find = (pattern: RegExp, what: string): string => {
    const file = files.find((f) => pattern.test(f));
    if (!file) throw new Error(`no ${what} page (${pattern}) in docs/api`);
    return file;
  };
  const diagram = [...audits]
    .filter(([, a]) => a.diagrams > 0)
    .sort(([, a], [, b]) => b.widestDiagram - a.widestDiagram)[0]?.[0];
  if (!diagram) throw new Error('no page with a diagram in docs/api');
  return {
    front: [find(/^index\.html$/, 'front'), 'table'],
    chapter: [find(/^documents\/Stage_5_/, 'stage 5 chapter'), 'pre'],
    protocol: [find(/^documents\/Wire_protocol/, 'wire protocol'), 'table'],
    diagram: [diagram, 'div.mermaid'],
  } satisfies Record<string, [string, string]>;
}

/** Scrolls the first `focus` element in the text to near the top and saves the window. */
async function screenshot(page: Page, file: string, focus: string): Promise<void> {
  await page.evaluate(`(() => {
    const target = document.querySelector('.col-content ${focus}');
    const top = target ? target.getBoundingClientRect().top + window.scrollY - 80 : 0;
    window.scrollTo({ top, behavior: 'instant' }); // TypeDoc's CSS asks for smooth scrolling
  })()`);
  await page.screenshot({ path: file });
}

// A usage mistake is one line and exit 2 (runMain's rule); a check that could
// not run (no site, no Chromium) is one line and exit 1, never a stack trace.
runMain(() =>
  main().catch((err: unknown) => {
    if (err instanceof ChatError) throw err;
    console.error(`check-site: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }),
);
