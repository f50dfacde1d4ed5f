/**
 * What counts as readable, for tools/site/check-site.ts: turns the measurements
 * tools/site/page-audit.js takes inside a page into the list of what is wrong with it.
 */

/** Smallest diagram text, in CSS pixels at 100% zoom, that a reader can be asked to read. */
export const MIN_TEXT = 12;

/**
 * Narrowest text column, in CSS pixels, on a 1280 px window: the chapters' threat-model
 * and reference tables have four or five columns of prose, and below about 850 px they
 * squeeze to a word or two per line.
 */
export const MIN_COLUMN = 850;

/** What page-audit.js reports about one page (see there for how each is measured). */
export interface PageAudit {
  viewport: number;
  pageWidth: number;
  column: number;
  overflowing: string[];
  wrappingCode: string[];
  diagrams: number;
  widestDiagram: number;
  failedDiagrams: string[];
  shrunkDiagrams: string[];
  smallestDiagramText: { px: number; text: string } | null;
  tables: { width: number; shown: number }[];
  brokenImages: string[];
  links: string[];
}

/** The page's problems, given how many diagrams its HTML holds; empty when it reads well. */
export function judge(audit: PageAudit, expectedDiagrams: number): string[] {
  const problems: string[] = [];
  if (audit.pageWidth > audit.viewport)
    problems.push(
      `the page scrolls sideways: ${audit.pageWidth} px in a ${audit.viewport} px window`,
    );
  for (const what of audit.overflowing)
    problems.push(`sticks out of its column or the window: ${what}`);
  for (const what of audit.wrappingCode) problems.push(`code block wraps its lines: ${what}`);
  // Each ```mermaid block first becomes a div.mermaid (site.js), then gets its SVG (mermaid).
  if (audit.diagrams !== expectedDiagrams)
    problems.push(`${audit.diagrams} of ${expectedDiagrams} mermaid block(s) handed to mermaid`);
  for (const what of audit.failedDiagrams) problems.push(`diagram not drawn as an SVG: ${what}`);
  for (const what of audit.shrunkDiagrams)
    problems.push(`diagram shrunk below its natural size: ${what}`);
  const text = audit.smallestDiagramText;
  if (text && text.px < MIN_TEXT - 0.05)
    problems.push(`diagram text at ${text.px.toFixed(1)} px (under ${MIN_TEXT}): "${text.text}"`);
  for (const src of audit.brokenImages) problems.push(`image did not load: ${src}`);
  return problems;
}
