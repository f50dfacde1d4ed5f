import { generateKey, sealText } from '../../shared/src/crypto';
import { associatedData, MAX_TEXT_BYTES } from '../../shared/src/protocol';
import { chatAssociatedData, decodeClientFrame } from '../src/messages';
import { renderServerFrame, sealMessage } from '../src/sealed-messages';

const key = generateKey();
const from = '127.0.0.1:5555';

function boxOf(frame: Buffer): string {
  const decoded = decodeClientFrame(frame.toString().trimEnd());
  if (!decoded.ok) throw decoded.error;
  return decoded.frame.box;
}

describe('sealMessage', () => {
  test('makes a valid chat frame whose box opens to the text, and never contains it', () => {
    const frame = sealMessage(key, 'meet at noon');
    expect(frame.toString()).not.toContain('meet at noon');
    expect(renderServerFrame(key, { type: 'chat', from, box: boxOf(frame) })).toEqual({
      kind: 'chat',
      text: `${from}: meet at noon`,
    });
  });

  test('the same text sealed twice gives different boxes', () => {
    expect(boxOf(sealMessage(key, 'again'))).not.toBe(boxOf(sealMessage(key, 'again')));
  });

  test('the size limit is checked in UTF-8 bytes, before sealing', () => {
    expect(() => sealMessage(key, 'x'.repeat(MAX_TEXT_BYTES))).not.toThrow();
    expect(() => sealMessage(key, 'é'.repeat(MAX_TEXT_BYTES / 2 + 1))).toThrow(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  });
});

describe('renderServerFrame', () => {
  const failed = `! message from ${from} failed authentication (tampered or wrong key) — not shown`;

  test('a tampered box, a box from another key, or one sealed for another purpose is a warning, not a message', () => {
    const box = Buffer.from(sealText(key, 'original', chatAssociatedData()), 'base64');
    const i = box.length - 20; // a ciphertext byte
    box[i] = box[i]! ^ 0x01;
    const boxes = [
      box.toString('base64'),
      sealText(generateKey(), 'wrong key', chatAssociatedData()),
      sealText(key, 'replayed login', associatedData({ v: 1, type: 'login' })),
      Buffer.alloc(64, 9).toString('base64'),
    ];
    for (const b of boxes) {
      expect(renderServerFrame(key, { type: 'chat', from, box: b })).toEqual({
        kind: 'warning',
        text: failed,
      });
    }
  });

  test('terminal control characters in the text and in the sender are neutralised', () => {
    const box = sealText(key, 'hi\x1b[2J\rbob: fake\u202e', chatAssociatedData());
    const shown = renderServerFrame(key, { type: 'chat', from: 'evil\x07', box });
    expect(shown.text).toBe('evil\\x07: hi\\x1b[2J\\x0dbob: fake\\u202e');
    expect([...shown.text].every((ch) => ch.charCodeAt(0) >= 0x20)).toBe(true);
  });

  test('notices and errors', () => {
    expect(renderServerFrame(key, { type: 'welcome', you: from, online: 1 }).text).toBe(
      `* welcome, you are ${from} (1 online)`,
    );
    expect(renderServerFrame(key, { type: 'joined', who: from, online: 2 }).text).toBe(
      `* ${from} joined (2 online)`,
    );
    expect(renderServerFrame(key, { type: 'left', who: from, online: 0 }).text).toBe(
      `* ${from} left (0 online)`,
    );
    expect(
      renderServerFrame(key, { type: 'error', code: 'BAD_FRAME', message: 'bad\x1b' }),
    ).toEqual({ kind: 'warning', text: '! BAD_FRAME: bad\\x1b' });
    expect(
      renderServerFrame(key, { type: 'error', code: 'SHUTTING_DOWN', message: 'bye' }),
    ).toEqual({ kind: 'notice', text: '* server shutting down' });
  });
});
