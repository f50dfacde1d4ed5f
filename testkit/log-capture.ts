/**
 * A server's JSON logs kept in memory, so a test can wait for what the
 * server says it did ("disconnect alice") instead of sleeping and hoping.
 *
 * Stage 6's and stage 7's test servers log through it; a test asks for a
 * record that is already there or will be.
 *
 * @module
 */
import { createLogger, type Logger } from '../shared/src/logger';

/** One parsed log record. */
export type LogRecord = Record<string, unknown>;

/** A logger that keeps every line, and ways to wait for records. */
export interface LogCapture {
  /** The logger to hand to the server (level `debug`: everything). */
  logger: Logger;
  /** Every JSON log line written, raw. */
  logLines: string[];
  /** Resolves with the first record (past or future) that matches. */
  waitForLog(match: (record: LogRecord) => boolean): Promise<LogRecord>;
  /** Resolves with the next record written from now on that matches. */
  nextLog(match: (record: LogRecord) => boolean): Promise<LogRecord>;
  /** How many records so far match. */
  countLogs(match: (record: LogRecord) => boolean): number;
  /** Resolves once `count` records in all match. */
  waitForLogCount(match: (record: LogRecord) => boolean, count: number): Promise<void>;
}

/** Starts capturing: a logger whose lines stay in memory, parsed on demand. */
export function captureLog(): LogCapture {
  const logLines: string[] = [];
  const waiters: { match: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }[] = [];
  const records = () => logLines.map((line) => JSON.parse(line) as LogRecord);
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(line: string) {
        logLines.push(line);
        const record = JSON.parse(line) as LogRecord;
        for (const waiter of [...waiters]) {
          if (waiter.match(record)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(record);
          }
        }
      },
    },
  });
  const nextLog = (match: (r: LogRecord) => boolean) =>
    new Promise<LogRecord>((resolve) => waiters.push({ match, resolve }));
  return {
    logger,
    logLines,
    nextLog,
    waitForLog: (match) => {
      const found = records().find(match);
      return found ? Promise.resolve(found) : nextLog(match);
    },
    countLogs: (match) => records().filter(match).length,
    waitForLogCount: async (match, count) => {
      let seen = records().filter(match).length;
      if (seen < count) await nextLog((r) => match(r) && ++seen >= count);
    },
  };
}
