/**
 * A static file server for the built site, on 127.0.0.1 and a free port, for
 * tools/site/check-site.ts.
 *
 * The check reads the site over HTTP, as a reader of a published copy does:
 * from `file://`, Chromium logs an error for every icon TypeDoc's markup points
 * at before TypeDoc's own script rewrites it, which would drown the check's
 * "no console errors" rule in noise that says nothing about the site. (The
 * check still opens one page from `file://`, to prove the diagrams draw offline.)
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** A running server: the site's base URL (ending in `/`) and how to stop it. */
export interface SiteServer {
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Serves the files under `root` (GET only; nothing outside `root`, whatever the URL says). */
export async function serveSite(root: string): Promise<SiteServer> {
  const server: Server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (request.method !== 'GET' || !file.startsWith(root + path.sep)) {
      response.writeHead(404).end();
      return;
    }
    stat(file)
      .then((info) => info.isFile())
      .catch(() => false)
      .then((isFile) => {
        if (!isFile) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, {
          'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        });
        createReadStream(file)
          .on('error', () => response.destroy())
          .pipe(response);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
