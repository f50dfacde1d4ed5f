/**
 * What a MySQL failure means for the chat, as stable error codes.
 *
 * Introduced by stage 6. The user store promises two outcomes besides success:
 * `NAME_TAKEN` (the UNIQUE constraint said no, `ER_DUP_ENTRY`) and
 * `SERVICE_UNAVAILABLE` for everything else: the server refused the
 * connection (`ECONNREFUSED`), dropped it (`PROTOCOL_CONNECTION_LOST`,
 * `ECONNRESET`), stayed silent (`ETIMEDOUT`, `PROTOCOL_SEQUENCE_TIMEOUT`), the
 * pool's queue was full, or an SQL error said the setup is wrong. Clients get
 * the code; logs get the driver's code in the message.
 *
 * @module
 */
import { ChatError } from './errors';

/**
 * The driver's error code (`ER_DUP_ENTRY`, `ECONNREFUSED`, ...), if any.
 *
 * @param err - anything mysql2 threw
 */
export function mysqlErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether `err` is an SQL error reported by the server (it carries an
 * `sqlState`). After such an error the connection is still in a known state;
 * after any other failure (a timeout, a lost socket) it is not.
 *
 * @param err - anything mysql2 threw
 */
export function isSqlError(err: unknown): boolean {
  return typeof (err as { sqlState?: unknown } | null)?.sqlState === 'string';
}

/**
 * Wraps any database failure as `SERVICE_UNAVAILABLE` (a ChatError passes through).
 *
 * @param err - anything mysql2 threw
 * @param detail - appended to the message (never a password)
 */
export function databaseUnavailable(err: unknown, detail = ''): ChatError {
  if (err instanceof ChatError) return err;
  const why = mysqlErrorCode(err) ?? (err instanceof Error ? err.message : String(err));
  return new ChatError('SERVICE_UNAVAILABLE', `user database unavailable: ${why}${detail}`);
}

/**
 * What to try when the store cannot start, for the error message.
 *
 * @param err - what the start-up check threw
 */
export function startupHint(err: unknown): string {
  switch (mysqlErrorCode(err)) {
    case 'ER_ACCESS_DENIED_ERROR':
      return 'wrong user or password: use the URL `npm run db:setup` saved, CHAT_DB_URL="$(cat .data/mysql-url)"';
    case 'ER_BAD_DB_ERROR':
    case 'ER_NO_SUCH_TABLE':
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_TABLEACCESS_DENIED_ERROR':
      return 'run `npm run db:setup` to create the database, the table and the grant';
    default:
      return 'is the MySQL server running and reachable?';
  }
}
