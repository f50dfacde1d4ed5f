/**
 * The error code reference (docs/errors.md) covers every code in
 * `ERROR_CODES`, with its meaning, and the committed page is current.
 * (The byte-for-byte staleness check, Prettier included, is `npm run docs:check`;
 * Prettier cannot run inside Jest.)
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ERROR_CODES, type ChatErrorCode } from '../../shared/src/errors';
import { ERRORS_PATH, renderErrorReference } from '../error-reference';

const committed = readFileSync(path.resolve(__dirname, '../..', ERRORS_PATH), 'utf8');
const codes = Object.keys(ERROR_CODES) as ChatErrorCode[];

/** The section of a page that belongs to one code: from its heading to the next. */
function section(page: string, code: string): string {
  const start = page.indexOf(`\n## ${code}\n`);
  if (start === -1) return '';
  const next = page.indexOf('\n## ', start + 1);
  return page.slice(start, next === -1 ? undefined : next);
}

describe('error code reference', () => {
  test.each(codes)(
    '%s has a complete section, in the generator and in the committed page',
    (code) => {
      for (const page of [renderErrorReference(), committed]) {
        const text = section(page, code);
        expect(text).toContain(ERROR_CODES[code]);
        for (const label of ['Introduced by:', 'Reported by:', 'On the wire:', 'What to do:']) {
          expect(text).toContain(label);
        }
      }
    },
  );

  test('the page has no section for a code that does not exist', () => {
    const headings = [...committed.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    expect(headings.sort()).toEqual([...codes].sort());
  });

  test('the section finder would notice a missing code', () => {
    expect(section(renderErrorReference(), 'NO_SUCH_CODE')).toBe('');
  });

  test('a code that exists only from stage 5 is never said to travel as a `! CODE` line', () => {
    const page = renderErrorReference();
    for (const code of [
      'DECRYPT_FAILED',
      'AUTH_FAILED',
      'NOT_LOGGED_IN',
      'RATE_LIMITED',
    ] as const) {
      const wire = /\*\*On the wire:\*\* (.*)$/m.exec(section(page, code))?.[1] ?? '';
      expect(wire).toMatch(/^yes: `\{"type":"error"/);
      expect(wire).not.toContain('! CODE');
    }
    const bad = /\*\*On the wire:\*\* (.*)$/m.exec(section(page, 'BAD_UTF8'))?.[1];
    expect(bad).toContain('`! CODE: …` in stages 2–4');
  });
});
