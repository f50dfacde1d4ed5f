/**
 * Where a client keeps the resumption tickets servers gave it: one file per
 * server and user, mode 0600.
 *
 * Introduced by stage 7. A ticket is a password substitute for a day (see
 * `login-ticket.ts`), so it is stored like a private key: in a folder only
 * its owner can enter, written atomically, never printed. A file that is
 * missing or damaged simply means "log in with the password".
 *
 * **Where.** `--ticket-dir DIR`, else `CHAT_TICKET_DIR`, else `.data/tickets/`,
 * one file per server and user, named after both:
 *
 * ```text
 * .data/tickets/127.0.0.1_5050_alice.ticket
 * ```
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { statedExpiry } from './login-ticket';
import { readPrivateFile, writePrivateFile } from './private-file';

/** The folder used when neither `--ticket-dir` nor `CHAT_TICKET_DIR` is given. */
export const DEFAULT_TICKET_DIR = path.resolve(__dirname, '..', '..', '.data', 'tickets');

/** The environment variable that names the ticket folder. */
export const TICKET_DIR_ENV = 'CHAT_TICKET_DIR';

// A ticket is one line of printable ASCII; anything else is a damaged file.
const TICKET_TEXT = /^[\x21-\x7e]{1,512}$/;

/**
 * Chooses the ticket folder: the flag, then the environment, then the default.
 *
 * @param flag - the value of `--ticket-dir`, if given
 * @param env - the environment; `CHAT_TICKET_DIR` is read from it
 */
export function resolveTicketDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = flag ?? env[TICKET_DIR_ENV];
  return chosen === undefined || chosen === '' ? DEFAULT_TICKET_DIR : path.resolve(chosen);
}

/** A client's stored tickets, by server and user. */
export class TicketStore {
  /**
   * @param dir - the folder (created 0700 on the first save)
   * @param warn - receives a warning if a ticket file is readable by others,
   *   or cannot be written
   */
  constructor(
    readonly dir: string,
    private readonly warn?: (message: string) => void,
  ) {}

  /**
   * The file for one server and user. Characters that are not safe in a
   * file name (`:` and brackets of an IPv6 address) become `_`; usernames
   * (`[A-Za-z0-9_.-]`) are safe already.
   *
   * @param server - `HOST:PORT` (see `serverName`)
   * @param username - the user
   */
  fileFor(server: string, username: string): string {
    const safe = (text: string) => text.replace(/[^A-Za-z0-9.-]/g, '_');
    return path.join(this.dir, `${safe(server)}_${safe(username)}.ticket`);
  }

  /**
   * The stored ticket, or `undefined` if there is none, it is damaged, or it
   * says it has expired: the server would refuse it, and sending it anyway
   * spends a round trip (the file stays until the next ticket replaces it).
   *
   * @param server - `HOST:PORT`
   * @param username - the user
   * @param now - the clock, in milliseconds since the epoch
   */
  load(server: string, username: string, now = Date.now()): string | undefined {
    const read = readPrivateFile(this.fileFor(server, username), {
      warn: this.warn,
      maxBytes: 1024,
    });
    if (!read.ok) return undefined;
    const ticket = read.text.trim();
    if (!TICKET_TEXT.test(ticket)) return undefined;
    const expiry = statedExpiry(ticket);
    return expiry !== undefined && expiry <= now ? undefined : ticket;
  }

  /**
   * Stores a ticket (mode 0600, atomically), replacing the previous one.
   * A "ticket" that is not one line of printable ASCII is not stored: it
   * came from a broken or hostile server, and must not reach the disk.
   *
   * @param server - `HOST:PORT`
   * @param username - the user
   * @param ticket - as the server issued it
   * @returns whether it was stored
   */
  save(server: string, username: string, ticket: string): boolean {
    if (!TICKET_TEXT.test(ticket)) return false;
    // Called as the ticket frame arrives, inside the socket's data handler: a
    // throw from here (the folder is a file, the disk is full) would end the
    // client. A ticket that cannot be kept only means the password next time.
    try {
      return writePrivateFile(this.fileFor(server, username), ticket + '\n', { replace: true });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.warn?.(`cannot keep the login ticket in ${this.dir}: ${why}; next time, the password`);
      return false;
    }
  }

  /**
   * Deletes the stored ticket (the server refused it, or the user logged out).
   *
   * @param server - `HOST:PORT`
   * @param username - the user
   */
  forget(server: string, username: string): void {
    fs.rmSync(this.fileFor(server, username), { force: true });
  }
}
