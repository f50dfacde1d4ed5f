/**
 * The example blocks of docs/protocol.md, filled from the wire test vectors.
 *
 * The spec is hand-written prose with `<!-- generated:vector… -->` blocks (see
 * tools/markers.ts); each block names what it shows, and this file renders it
 * from the vectors, so every example frame, table of decoder verdicts and box
 * breakdown in the spec is exactly what the code produces:
 *
 * - `vector SET "NAME"`: one frame line, byte for byte (SET is e.g. `stage5.clientToServer`);
 * - `vector-cases SET`: every case of a frame set and the decoder's verdict;
 * - `vector-exchange SET "NAME" SET "NAME" …`: several frame lines as a transcript,
 *   each behind its arrow (`C → S` for a client's line, `S → C` for a server's);
 * - `vector-framing`, `vector-ad`, `vector-bad-boxes`: those sections as tables;
 * - `vector-box "NAME"`: one box taken apart (key, nonce, AD, ciphertext, tag);
 * - `vector-login`: the stage 6 login exchange;
 * - `vector-credentials`: the shapes of an opened credentials box, and the verdicts.
 */

import { NONCE_BYTES, TAG_BYTES } from '../shared/src/crypto';
import { replaceMarkers } from './markers';
import type { FrameVector, WireVectors } from './wire-vectors-build';

/** The spec whose example blocks the vectors fill, relative to the repository root. */
export const PROTOCOL_PATH = 'docs/protocol.md';

const hex = (bytes: Buffer): string => bytes.toString('hex');

const fence = (lang: string, body: string): string => `\`\`\`${lang}\n${body}\n\`\`\``;
const code = (text: string): string => `\`${text.replace(/\|/g, '\\|')}\``;

function frameSet(vectors: WireVectors, name: string | undefined): FrameVector[] {
  const [stage, direction] = (name ?? '').split('.');
  const set =
    (stage === 'stage5' || stage === 'stage6' || stage === 'stage8') &&
    (direction === 'clientToServer' || direction === 'serverToClient')
      ? vectors.frames[stage][direction]
      : undefined;
  if (set === undefined) throw new Error(`protocol.md: no frame set "${name}"`);
  return set;
}

function verdict(vector: FrameVector): string {
  return vector.expected.ok ? 'accepted' : code(vector.expected.code);
}

/** Fills one generated block of docs/protocol.md. */
function fillBlock(vectors: WireVectors, kind: string, args: string[]): string {
  switch (kind) {
    case 'vector': {
      // One example frame, exactly as it travels (plus the \n the framing adds).
      const vector = frameSet(vectors, args[0]).find((v) => v.name === args[1]);
      if (vector?.line === undefined)
        throw new Error(`protocol.md: no frame "${args[1]}" in ${args[0]}`);
      // prettier-ignore keeps the line byte for byte: Prettier would reformat the JSON.
      return `<!-- prettier-ignore -->\n${fence('json', vector.line)}`;
    }
    case 'vector-exchange': {
      const lines: string[] = [];
      for (let i = 0; i < args.length; i += 2) {
        const vector = frameSet(vectors, args[i]).find((v) => v.name === args[i + 1]);
        if (vector?.line === undefined || !vector.expected.ok)
          throw new Error(`protocol.md: no valid frame "${args[i + 1]}" in ${args[i]}`);
        const arrow = args[i]!.endsWith('clientToServer') ? 'C → S' : 'S → C';
        lines.push(`${arrow}  ${vector.line}`);
      }
      return fence('text', lines.join('\n'));
    }
    case 'vector-cases': {
      const rows = frameSet(vectors, args[0]).map(
        (v) =>
          `| ${v.name} | ${v.expected.ok ? code(String((v.expected.frame as { type: string }).type)) : '—'} | ${verdict(v)} |`,
      );
      return ['| Case | Type | Decoder says |', '| --- | --- | --- |', ...rows].join('\n');
    }
    case 'vector-framing': {
      const rows = vectors.framing.map((v) => {
        const frames = v.expected.map((f) =>
          'text' in f ? code(JSON.stringify(f.text)) : code(f.error),
        );
        return `| ${v.name} | ${v.maxFrameBytes} | ${v.chunksHex.map(code).join(' + ')} | ${frames.join(', ') || '(none yet)'} |`;
      });
      return ['| Case | Limit | Reads (hex) | Frames |', '| --- | --: | --- | --- |', ...rows].join(
        '\n',
      );
    }
    case 'vector-ad': {
      const rows = vectors.associatedData.map((v) => `| ${v.name} | ${code(v.utf8)} |`);
      return ['| Box in | Associated data (UTF-8 bytes) |', '| --- | --- |', ...rows].join('\n');
    }
    case 'vector-box': {
      const box = vectors.boxes.find((b) => b.name === args[0]);
      if (box === undefined) throw new Error(`protocol.md: no box "${args[0]}"`);
      const bytes = Buffer.from(box.box, 'base64');
      const parts = [
        `key        ${box.keyHex}`,
        `nonce      ${box.nonceHex}`,
        `AD         ${box.associatedData}`,
        `plaintext  ${JSON.stringify(box.plaintext)}`,
        `ciphertext ${hex(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES))}`,
        `tag        ${hex(bytes.subarray(bytes.length - TAG_BYTES))}`,
        `box        ${box.box}`,
      ];
      return fence('text', parts.join('\n'));
    }
    case 'vector-bad-boxes': {
      const rows = vectors.badBoxes.map((v) => `| ${v.name} | ${code(v.error)} |`);
      return ['| Box | Receiver reports |', '| --- | --- |', ...rows].join('\n');
    }
    case 'vector-login': {
      const l = vectors.login;
      return fence(
        'text',
        [
          `S → C  ${l.helloLine}`,
          `          key         = ${l.keyHex} (the room key; a test value)`,
          `          credentials = ${l.credentials}`,
          `          AD          = ${l.associatedData}`,
          `          nonce       = ${l.nonceHex} (random in real use)`,
          `C → S  ${l.loginLine}`,
        ].join('\n'),
      );
    }
    case 'vector-credentials': {
      const rows = vectors.credentials.map(
        (v) =>
          `| ${v.name} | ${code(v.plaintext)} | ${v.expected.ok ? 'accepted' : code(v.expected.code)} |`,
      );
      return ['| Case | Opened box | Server says |', '| --- | --- | --- |', ...rows].join('\n');
    }
    default:
      throw new Error(`protocol.md: unknown generated block kind "${kind}"`);
  }
}

/** The spec with every `vector*` block refilled; other text unchanged. */
export function fillProtocolDoc(markdown: string, vectors: WireVectors): string {
  return replaceMarkers(markdown, (block) => fillBlock(vectors, block.kind, block.args));
}
