import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KnownServers, resolveKnownServersFile, serverName } from '../src/known-servers';
import { decidePin, type PinFacts } from '../src/pin-decision';

const code = (c: string) => expect.objectContaining({ code: c });
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
const K1 = 'SHA256:OA+KdZTKD4Jp6Y1cxmO4oSGUYDooEL/7TCKtfqXuy1M';
const K2 = 'SHA256:qHt2PAuBXTgCiUEUqghol6CQdU52iEq2MP4VKm/RuaM';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'known-servers-'));
  file = path.join(dir, 'nested', 'known-servers');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('serverName', () => {
  test('host:port, lower case, IPv6 in brackets', () => {
    expect(serverName('127.0.0.1', 5050)).toBe('127.0.0.1:5050');
    expect(serverName('Chat.Example.ORG', 443)).toBe('chat.example.org:443');
    expect(serverName('::1', 5050)).toBe('[::1]:5050');
  });
});

describe('KnownServers', () => {
  test('a missing file knows nothing; remember creates it 0600 (folder 0700) with a header line', () => {
    const known = new KnownServers(file);
    expect(known.lookup('127.0.0.1:5050')).toBeUndefined();
    expect(fs.existsSync(file)).toBe(false); // a lookup writes nothing
    known.remember('127.0.0.1:5050', K1);
    known.remember('[::1]:5050', K2);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.dirname(file))).toBe(0o700);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe(
      '# socket-chat known servers: HOST:PORT FINGERPRINT (delete a line to forget a server)\n' +
        `127.0.0.1:5050 ${K1}\n[::1]:5050 ${K2}\n`,
    );
    expect(new KnownServers(file).lookup('[::1]:5050')).toBe(K2);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['known-servers']); // no temp files left
  });

  test('remember replaces a line in place; forget removes it; comments and blank lines stay', () => {
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, `# mine\n\nhost-a:1 ${K1}\n# keep me\nhost-b:2 ${K2}\n`, {
      mode: 0o600,
    });
    const known = new KnownServers(file);
    known.remember('host-a:1', K2);
    expect(fs.readFileSync(file, 'utf8')).toBe(
      `# mine\n\nhost-a:1 ${K2}\n# keep me\nhost-b:2 ${K2}\n`,
    );
    expect(known.forget('host-b:2')).toBe(true);
    expect(known.forget('host-b:2')).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(`# mine\n\nhost-a:1 ${K2}\n# keep me\n`);
  });

  test('an edit by hand counts at once (every lookup reads the file)', () => {
    const known = new KnownServers(file);
    known.remember('h:1', K1);
    fs.writeFileSync(file, `h:1 ${K2}\n`);
    expect(known.lookup('h:1')).toBe(K2);
  });

  test.each([
    ['a line without a fingerprint', 'h:1\n', ':1:'],
    ['a bad fingerprint', 'h:1 SHA256:nope\n', ':1:'],
    ['no port', `h ${K1}\n`, ':1:'],
    ['three fields', `h:1 ${K1} extra\n`, ':1:'],
    ['one server with two keys', `# c\nh:1 ${K1}\nh:1 ${K2}\n`, ':3:'],
  ])('%s is BAD_KNOWN_SERVERS naming the file and line', (_name, text, line) => {
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, text, { mode: 0o600 });
    expect(() => new KnownServers(file).lookup('h:1')).toThrow(code('BAD_KNOWN_SERVERS'));
    expect(() => new KnownServers(file).lookup('h:1')).toThrow(`${file}${line}`);
  });

  test('a file other users can read is used, with a warning that says how to fix it', () => {
    new KnownServers(file).remember('h:1', K1);
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    expect(new KnownServers(file, (m) => warnings.push(m)).lookup('h:1')).toBe(K1);
    expect(warnings).toEqual([expect.stringContaining(`chmod 600 ${file}`)]);
  });

  test('the file: --known-servers, then CHAT_KNOWN_SERVERS, then .data/known-servers', () => {
    expect(resolveKnownServersFile('x', { CHAT_KNOWN_SERVERS: 'y' })).toBe(path.resolve('x'));
    expect(resolveKnownServersFile(undefined, { CHAT_KNOWN_SERVERS: 'y' })).toBe(path.resolve('y'));
    expect(resolveKnownServersFile(undefined, {})).toMatch(/\.data[/\\]known-servers$/);
  });
});

describe('decidePin', () => {
  const facts = (
    pinned: string | undefined,
    expected: string | undefined,
    presented: string,
  ): PinFacts => ({
    server: 'h:1',
    presented,
    pinned,
    expected,
    knownServersFile: '/k',
  });
  test.each([
    [undefined, undefined, K1, 'ask'],
    [undefined, K1, K1, 'pin'],
    [K1, undefined, K1, 'accept'],
    [K1, K1, K1, 'accept'],
  ])('pinned %s, expected %s, presented %s: %s', (pinned, expected, presented, decision) => {
    expect(decidePin(facts(pinned, expected, presented))).toBe(decision);
  });
  test.each([
    [undefined, K2, K1, 'FINGERPRINT_MISMATCH'],
    [K1, K2, K1, 'FINGERPRINT_MISMATCH'],
    [K1, undefined, K2, 'KEY_CHANGED'],
    [K1, K2, K2, 'KEY_CHANGED'], // --server-fingerprint never re-pins a changed key
  ])('pinned %s, expected %s, presented %s: %s', (pinned, expected, presented, error) => {
    expect(() => decidePin(facts(pinned, expected, presented))).toThrow(code(error));
  });
  test('KEY_CHANGED names both keys, the file, and what to do', () => {
    expect(() => decidePin(facts(K1, undefined, K2))).toThrow(
      new RegExp(`${escape(K2)}.*${escape(K1)}.*Nothing was sent.*delete the line for h:1 from /k`),
    );
  });
});

function escape(text: string): string {
  return text.replace(/[+/]/g, (c) => `\\${c}`);
}
