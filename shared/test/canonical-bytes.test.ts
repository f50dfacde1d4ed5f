import fc from 'fast-check';
import { CanonicalWriter } from '../src/canonical-bytes';
import { E2E_LABELS } from '../src/e2e-labels';

describe('canonical bytes', () => {
  test('every field is length-prefixed: ("ab","c") and ("a","bc") differ', () => {
    const one = new CanonicalWriter('t').string('ab').string('c').finish();
    const two = new CanonicalWriter('t').string('a').string('bc').finish();
    expect(one.equals(two)).toBe(false);
  });

  test('the layout is exactly the documented one', () => {
    const bytes = new CanonicalWriter('L')
      .string('é')
      .bytes(Buffer.from([9]))
      .u32(258)
      .u64(2 ** 40)
      .finish();
    expect(bytes.toString('hex')).toBe(
      '00014c' + '0002c3a9' + '0000000109' + '00000102' + '0000010000000000',
    );
  });

  test('property: different field lists never give the same bytes', () => {
    const field = fc.oneof(
      fc.string().map((s) => ['s', s] as const),
      fc.uint8Array({ maxLength: 8 }).map((b) => ['b', b] as const),
    );
    const write = (fields: readonly (readonly ['s', string] | readonly ['b', Uint8Array])[]) => {
      const w = new CanonicalWriter('t');
      for (const [kind, value] of fields) {
        if (kind === 's') w.string(value);
        else w.bytes(value);
      }
      return w.finish().toString('hex');
    };
    fc.assert(
      fc.property(fc.array(field, { maxLength: 4 }), fc.array(field, { maxLength: 4 }), (a, b) => {
        // Same kinds in the same order: equal bytes exactly when equal values.
        const kinds = (x: typeof a) => x.map(([k]) => k).join('');
        fc.pre(kinds(a) === kinds(b));
        const values = (x: typeof a) =>
          JSON.stringify(x.map(([, v]) => Buffer.from(v).toString('hex')));
        expect(write(a) === write(b)).toBe(values(a) === values(b));
      }),
    );
  });

  test('out-of-range numbers and lone surrogates are refused, not silently changed', () => {
    const w = () => new CanonicalWriter('t');
    expect(() => w().u32(-1)).toThrow(RangeError);
    expect(() => w().u32(2 ** 32)).toThrow(RangeError);
    expect(() => w().u32(1.5)).toThrow(RangeError);
    expect(() => w().u64(2 ** 53)).toThrow(RangeError);
    expect(() => w().string('\ud800')).toThrow(RangeError);
  });

  test('every end-to-end label is distinct and names the protocol version', () => {
    const labels = Object.values(E2E_LABELS);
    expect(new Set(labels).size).toBe(labels.length);
    for (const label of labels) expect(label).toMatch(/^socket-chat v8 /);
  });
});
