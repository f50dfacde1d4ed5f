/**
 * The built site as tools/site/check-site.ts sees it: which pages it opens, how many
 * diagrams each should show, when a page is ready to measure, and what went wrong
 * while it loaded.
 */

import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

/** Where `npm run docs` writes the site. */
export const SITE = path.resolve(__dirname, '../../docs/api');

/**
 * The front page, every document (chapters and reference pages) and one API page. The
 * other API pages share that one's layout; all 374 took 4.5 minutes, too long for CI.
 */
export function siteFiles(): string[] {
  const html = (dir: string) =>
    readdirSync(path.join(SITE, dir))
      .filter((name) => name.endsWith('.html'))
      .sort()
      .map((name) => `${dir}/${name}`);
  return ['index.html', ...html('documents'), ...html('modules').slice(0, 1)];
}

/** Diagrams a page should show: TypeDoc writes each ```mermaid block as code.mermaid. */
export function expectedDiagrams(file: string): number {
  return readFileSync(path.join(SITE, file), 'utf8').split('<code class="mermaid">').length - 1;
}

/**
 * Opens `url` (the site's page `file`) and waits until a reader would see it whole:
 * TypeDoc has shown the body, and site.js has marked `<html data-diagrams>` once mermaid
 * is done. Returns how many diagrams the page should have.
 */
export async function showPage(page: Page, url: string, file: string): Promise<number> {
  await page.goto(url);
  await page.waitForFunction(`document.body.style.display !== 'none'`);
  const expected = expectedDiagrams(file);
  if (expected > 0)
    await page
      .waitForFunction(`document.documentElement.dataset.diagrams`, null, { timeout: 60_000 })
      .catch(() => {
        throw new Error(`${file}: diagrams still not drawn after 60 s`);
      });
  return expected;
}

/**
 * Collects, until `stop()`, what a reader's console would show: errors, uncaught
 * exceptions, failed requests and HTTP errors. `ignore` lets a caller name a message
 * that is known and harmless where it looks.
 */
export function watchErrors(page: Page, ignore: RegExp = /$^/): { errors: string[]; stop(): void } {
  const errors: string[] = [];
  const add = (message: string) => {
    if (!ignore.test(message)) errors.push(message);
  };
  // "Failed to load resource" carries no URL; onResponse reports the same failure with one.
  const onConsole = (m: { type(): string; text(): string }) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      add(`console: ${m.text()}`);
  };
  const onPageError = (e: Error) => add(`uncaught: ${e.message}`);
  const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) =>
    add(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  // A fresh profile asks every new origin for /favicon.ico; the site names no icon,
  // so that 404 is the browser's guess, not a broken link.
  const onResponse = (r: { url(): string; status(): number }) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
      add(`HTTP ${r.status()}: ${r.url()}`);
  };
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  page.on('requestfailed', onFailed);
  page.on('response', onResponse);
  return {
    errors,
    stop: () => {
      page.off('console', onConsole);
      page.off('pageerror', onPageError);
      page.off('requestfailed', onFailed);
      page.off('response', onResponse);
    },
  };
}
