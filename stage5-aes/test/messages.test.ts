import fc from 'fast-check';
import { generateKey, openText, sealText } from '../../shared/src/crypto';
import { associatedData } from '../../shared/src/protocol';
import {
  chatAssociatedData,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  type ServerFrame,
} from '../src/messages';

const box = Buffer.alloc(40, 7).toString('base64');

function errorCode(result: { ok: boolean; error?: { code: string } }): string | undefined {
  return result.ok ? undefined : result.error!.code;
}

describe('stage 5 frames', () => {
  test('valid frames decode to typed objects', () => {
    expect(decodeClientFrame(JSON.stringify({ type: 'chat', box }))).toEqual({
      ok: true,
      frame: { type: 'chat', box },
    });
    const frames: ServerFrame[] = [
      { type: 'chat', from: '127.0.0.1:5555', box },
      { type: 'welcome', you: '127.0.0.1:5555', online: 2 },
      { type: 'joined', who: '[::1]:4000', online: 3 },
      { type: 'left', who: '127.0.0.1:1', online: 0 },
      { type: 'error', code: 'BAD_FRAME', message: 'frame is not valid JSON' },
    ];
    for (const frame of frames) {
      const bytes = encodeServerFrame(frame);
      expect(bytes.at(-1)).toBe(0x0a);
      expect(decodeServerFrame(bytes.subarray(0, -1).toString())).toEqual({ ok: true, frame });
    }
  });

  test('a client-chosen "from" is refused: the server alone names the sender', () => {
    const text = JSON.stringify({ type: 'chat', box, from: '10.0.0.1:1' });
    expect(errorCode(decodeClientFrame(text))).toBe('BAD_FRAME');
  });

  test('server frames: wrong types, negative counts, lone surrogates, unknown codes are BAD_FRAME', () => {
    for (const bad of [
      { type: 'welcome', you: 'x', online: -1 },
      { type: 'welcome', you: 'x', online: 1.5 },
      { type: 'welcome', you: 'x', online: '2' },
      { type: 'joined', who: '', online: 1 },
      { type: 'joined', who: 'a\ud800b', online: 1 },
      { type: 'left', who: 'x'.repeat(65), online: 1 },
      { type: 'error', code: 'NOT_A_CODE', message: 'm' },
      { type: 'error', code: 'toString', message: 'm' },
      { type: 'chat', box },
    ]) {
      expect(errorCode(decodeServerFrame(JSON.stringify(bad)))).toBe('BAD_FRAME');
    }
  });

  test('a chat box sealed by a client opens with the stage 5 associated data, and only with it', () => {
    const key = generateKey();
    const sealed = sealText(key, 'hi', chatAssociatedData());
    const line = encodeClientFrame({ type: 'chat', box: sealed }).toString().trimEnd();
    const decoded = decodeClientFrame(line);
    expect(decoded.ok && openText(key, decoded.frame.box, chatAssociatedData())).toBe('hi');
    const loginAd = associatedData({ v: 1, type: 'login' });
    expect(() => openText(key, sealed, loginAd)).toThrow(/authentication failed/);
  });

  test('neither decoder throws on frame-like objects (property)', () => {
    const types = fc.constantFrom('chat', 'welcome', 'joined', 'left', 'error', 'x', '');
    const values = fc.oneof(
      fc.jsonValue(),
      fc.constant(box),
      fc.base64String(),
      fc.constantFrom('BAD_FRAME', 'hasOwnProperty', '__proto__'),
    );
    const keys = fc.constantFrom('box', 'from', 'who', 'you', 'online', 'code', 'message', 'x');
    fc.assert(
      fc.property(types, fc.dictionary(keys, values), (type, fields) => {
        const text = JSON.stringify({ ...fields, type });
        for (const decode of [decodeClientFrame, decodeServerFrame]) {
          const result = decode(text);
          if (!result.ok) expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(result.error.code);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
