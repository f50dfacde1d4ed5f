/**
 * The known-servers file: which public key each server had the first time
 * this client trusted it, the way ssh's `known_hosts` remembers host keys.
 *
 * Introduced by stage 7.
 *
 * **Format.** Plain text, one server per line: the server as `HOST:PORT`
 * (an IPv6 address in brackets), one space, its key's fingerprint. Lines
 * starting with `#` and blank lines are ignored and kept. The client writes
 * the file; a person may read and edit it: deleting a line forgets a server.
 *
 * ```text
 * # socket-chat known servers: HOST:PORT FINGERPRINT (delete a line to forget a server)
 * 127.0.0.1:5050 SHA256:OA+KdZTKD4Jp6Y1cxmO4oSGUYDooEL/7TCKtfqXuy1M
 * [::1]:5050 SHA256:qHt2PAuBXTgCiUEUqghol6CQdU52iEq2MP4VKm/RuaM
 * ```
 *
 * **Where.** `--known-servers FILE`, else `CHAT_KNOWN_SERVERS`, else
 * `.data/known-servers` (git-ignored). Mode 0600 and atomic rewrites
 * (`private-file.ts`): who can edit this file can make the client trust
 * any server, so it is as private as a key.
 *
 * **Two clients at once.** Each change re-reads the file just before its
 * atomic rewrite, so two clients pinning different servers rarely lose a
 * line, and never leave a torn file; ssh has the same trade-off.
 *
 * @module
 */
import net from 'node:net';
import path from 'node:path';
import { ChatError } from './errors';
import { parseFingerprint } from './fingerprint';
import { readPrivateFile, writePrivateFile } from './private-file';

/** The file used when neither `--known-servers` nor `CHAT_KNOWN_SERVERS` is given. */
export const DEFAULT_KNOWN_SERVERS_FILE = path.resolve(
  __dirname,
  '..',
  '..',
  '.data',
  'known-servers',
);

/** The environment variable that names the known-servers file. */
export const KNOWN_SERVERS_ENV = 'CHAT_KNOWN_SERVERS';

const HEADER =
  '# socket-chat known servers: HOST:PORT FINGERPRINT (delete a line to forget a server)\n';
const SERVER_PATTERN = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+):(\d{1,5})$/;

/**
 * Chooses the known-servers file: the flag, then the environment, then the default.
 *
 * @param flag - the value of `--known-servers`, if given
 * @param env - the environment; `CHAT_KNOWN_SERVERS` is read from it
 * @returns an absolute path
 */
export function resolveKnownServersFile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = flag ?? env[KNOWN_SERVERS_ENV];
  return chosen === undefined || chosen === '' ? DEFAULT_KNOWN_SERVERS_FILE : path.resolve(chosen);
}

/**
 * The name a server is known by: `host:port`, the host in lower case, an
 * IPv6 address in brackets (`[::1]:5050`). The port is part of it: two
 * servers on one machine are two servers, with two keys.
 *
 * @param host - the host name or address the client connects to
 * @param port - the TCP port
 */
export function serverName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return net.isIPv6(lower) ? `[${lower}]:${port}` : `${lower}:${port}`;
}

/**
 * A known-servers file. Every lookup reads the file (it is small), so an
 * edit by hand, or by another client, counts at once.
 */
export class KnownServers {
  /**
   * @param file - the file (see {@link resolveKnownServersFile}); it need not exist yet
   * @param warn - receives a warning if the file is readable by other users
   */
  constructor(
    readonly file: string,
    private readonly warn?: (message: string) => void,
  ) {}

  /**
   * The fingerprint pinned for `server`, or `undefined` on first contact.
   *
   * @param server - as made by {@link serverName}
   * @throws ChatError `BAD_KNOWN_SERVERS` if the file has a malformed line
   */
  lookup(server: string): string | undefined {
    return this.read().pins.get(server);
  }

  /**
   * Pins `fingerprint` for `server`, replacing any earlier pin for it.
   * The pinning flow only calls this on first contact; replacing a pin is
   * for a person who has checked the new key (see `pin-decision.ts`).
   *
   * @param server - as made by {@link serverName}
   * @param fingerprint - `SHA256:…`
   */
  remember(server: string, fingerprint: string): void {
    const line = `${checkServer(server)} ${parseFingerprint(fingerprint)}`;
    const { lines } = this.read();
    const at = lines.findIndex((l) => l.split(' ')[0] === server);
    if (at === -1) lines.push(line);
    else lines[at] = line;
    this.write(lines);
  }

  /**
   * Removes the pin for `server`, so the next connection is a first contact.
   *
   * @param server - as made by {@link serverName}
   * @returns whether there was a pin to remove
   */
  forget(server: string): boolean {
    const { lines } = this.read();
    const kept = lines.filter((l) => l.split(' ')[0] !== server);
    if (kept.length === lines.length) return false;
    this.write(kept);
    return true;
  }

  private read(): { lines: string[]; pins: Map<string, string> } {
    const result = readPrivateFile(this.file, { warn: this.warn, maxBytes: 1 << 20 });
    if (!result.ok && result.reason === 'missing') return { lines: [], pins: new Map() };
    if (!result.ok) throw new ChatError('BAD_KNOWN_SERVERS', result.detail);
    const lines = result.text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const pins = new Map<string, string>();
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const where = `${this.file}:${i + 1}`;
      const [server, fingerprint, extra] = line.split(/\s+/);
      if (fingerprint === undefined || extra !== undefined || !SERVER_PATTERN.test(server!)) {
        throw new ChatError('BAD_KNOWN_SERVERS', `${where}: expected "HOST:PORT SHA256:…"`);
      }
      let pin: string;
      try {
        pin = parseFingerprint(fingerprint, `${where}: the fingerprint`);
      } catch (err) {
        throw new ChatError('BAD_KNOWN_SERVERS', (err as Error).message);
      }
      const earlier = pins.get(server!);
      if (earlier !== undefined && earlier !== pin) {
        throw new ChatError(
          'BAD_KNOWN_SERVERS',
          `${where}: ${server} is listed twice, with two keys`,
        );
      }
      pins.set(server!, pin);
    });
    return { lines, pins };
  }

  private write(lines: string[]): void {
    const body =
      lines.length === 0 || !lines[0]!.startsWith('#') ? [HEADER.trimEnd(), ...lines] : lines;
    writePrivateFile(this.file, body.join('\n') + '\n', { replace: true });
  }
}

function checkServer(server: string): string {
  if (!SERVER_PATTERN.test(server)) {
    throw new ChatError('BAD_ARGUMENT', `"${server}" is not HOST:PORT (see serverName)`);
  }
  return server;
}
