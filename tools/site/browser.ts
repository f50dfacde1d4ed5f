/**
 * Headless Chromium for tools/site/check-site.ts: Debian's `chromium` package, driven
 * by playwright-core. playwright-core has no install script and never downloads a
 * browser; it is told which binary to run.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** A window size in CSS pixels, named for the reader who has it. */
export interface Viewport {
  name: string;
  width: number;
  height: number;
}

/** Flags for a headless browser on a closed network: nothing phones home or updates itself. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** A running browser and how to stop it (which also deletes its profile). */
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Chromium (`$CHROMIUM`, else /usr/bin/chromium) with a fresh, empty profile, so
 * no cache or state from an earlier run can hide a problem, at 100% zoom (one CSS pixel
 * is one screen pixel, so "12 px" means what a reader sees).
 */
export async function openBrowser(viewport: Viewport): Promise<Browser> {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath))
    throw new Error(`no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM`);
  const profile = await mkdtemp(path.join(tmpdir(), 'check-site-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: viewport.width, height: viewport.height },
      deviceScaleFactor: 1,
    });
    return {
      context,
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}
