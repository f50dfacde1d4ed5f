/**
 * What tools/site/check-site.ts checks by using the site rather than measuring it:
 * enlarging a diagram, reading a page offline from `file://`, searching. Each returns
 * the problems it found (empty when all is well) and logs what it saw.
 */

import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { showPage, SITE, watchErrors } from './site-pages';

/**
 * A click on a diagram opens it in the enlarged view, never smaller than its natural
 * size, and Escape closes the view and puts the diagram back in its place; the
 * Enlarge button above it does the same from the keyboard. Saves a screenshot of the
 * view to `shot`.
 */
export async function checkEnlarge(
  page: Page,
  base: string,
  file: string,
  shot: string,
): Promise<string[]> {
  await showPage(page, base + file, file);
  const diagram = page.locator('div.mermaid').first();
  const natural = Number(await diagram.getAttribute('data-natural-width'));
  const view = page.locator('dialog.diagram-view[open]');
  const problems: string[] = [];
  const opens = async (how: string, open: () => Promise<void>): Promise<number> => {
    await open();
    if (
      !(await view.waitFor({ timeout: 5_000 }).then(
        () => true,
        () => false,
      ))
    ) {
      problems.push(`${file}: ${how} did not open the enlarged view`);
      return 0;
    }
    const shown = (await view.locator('svg').boundingBox())?.width ?? 0;
    if (shown < natural - 1)
      problems.push(`${file}: ${how} showed the diagram ${shown} px wide, under ${natural} px`);
    return shown;
  };
  const closes = async (): Promise<void> => {
    await page.keyboard.press('Escape');
    if (
      !(await view.waitFor({ state: 'detached', timeout: 5_000 }).then(
        () => true,
        () => false,
      ))
    )
      problems.push(`${file}: Escape did not close the enlarged view`);
    if ((await diagram.locator('svg').count()) !== 1)
      problems.push(`${file}: the diagram did not return to its place after the view closed`);
  };

  const shown = await opens('a click on the diagram', () => diagram.click());
  if (shown > 0) await page.screenshot({ path: shot });
  await closes();
  const button = page.locator('.diagram-hint button').first();
  await button.focus();
  await opens('Enter on the Enlarge button', () => page.keyboard.press('Enter'));
  await closes();
  if (
    !(await page.evaluate(
      `document.activeElement === document.querySelector('.diagram-hint button')`,
    ))
  )
    problems.push(`${file}: focus did not return to the Enlarge button`);
  console.log(`ok a click enlarges the diagram: ${natural} px → ${Math.round(shown)} px wide`);
  return problems;
}

/**
 * The site promises to work opened straight from the folder: a diagram page read from
 * `file://` must draw its diagrams. From `file://` Chromium refuses TypeDoc's links to
 * its icon sprite, assets/icons.svg, before TypeDoc's icons.js rewrites them to the
 * copy it puts in the page (see serve.ts): those are the errors let through.
 */
export async function checkOffline(context: BrowserContext, file: string): Promise<string[]> {
  const page = await context.newPage();
  const watch = watchErrors(page, /file:\/\/\S*\/assets\/icons\.svg/);
  try {
    const expected = await showPage(page, pathToFileURL(path.join(SITE, file)).href, file);
    const drawn = await page.locator('div.mermaid svg').count();
    console.log(`ok ${file} from file://: ${drawn} of ${expected} diagram(s) drawn`);
    const problems = watch.errors.map((error) => `${file} from file://: ${error}`);
    if (drawn !== expected)
      problems.push(`${file} from file://: ${drawn} of ${expected} diagram(s) drawn`);
    return problems;
  } finally {
    watch.stop();
    await page.close();
  }
}

/** Search, as a reader uses it: open the box, type a name, read the results. */
export async function checkSearch(page: Page, base: string): Promise<string[]> {
  await showPage(page, base + 'index.html', 'index.html');
  await page.click('#tsd-search-trigger');
  await page.locator('#tsd-search-input').fill('LineDecoder');
  const results = page.locator('#tsd-search-results li');
  await results
    .first()
    .waitFor({ timeout: 10_000 })
    .catch(() => {});
  const hits = (await results.allTextContents()).map((hit) => hit.replace(/\s+/g, ' ').trim());
  if (!hits.some((hit) => hit.includes('LineDecoder')))
    return [`search for LineDecoder found: ${hits.join(' | ') || 'nothing'}`];
  console.log(`ok search: ${hits.join(' | ')}`);
  return [];
}
