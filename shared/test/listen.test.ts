import net from 'node:net';
import { formatEndpoint, listen, listenFailure } from '../src/listen';

const servers: net.Server[] = [];
function newServer(): net.Server {
  const server = net.createServer();
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

describe('formatEndpoint', () => {
  test('IPv4 is ip:port, IPv6 gets brackets', () => {
    expect(formatEndpoint('127.0.0.1', 5050)).toBe('127.0.0.1:5050');
    expect(formatEndpoint('localhost', 5050)).toBe('localhost:5050');
    expect(formatEndpoint('::1', 5050)).toBe('[::1]:5050');
    expect(formatEndpoint('::ffff:127.0.0.1', 40000)).toBe('[::ffff:127.0.0.1]:40000');
  });
});

describe('listen', () => {
  test('resolves with the bound address; port 0 (or none) picks a free port', async () => {
    const address = await listen(newServer(), { host: '127.0.0.1', port: 0 });
    expect(address.address).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    const defaults = await listen(newServer());
    expect(defaults.address).toBe('127.0.0.1');
    expect(defaults.port).toBeGreaterThan(0);
  });

  test('a port in use: one sentence with the real port, never "undefined"', async () => {
    const { port } = await listen(newServer());
    await expect(listen(newServer(), { port })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: `cannot listen on 127.0.0.1:${port}: port ${port} is already in use (is another server running?)`,
    });
  });

  test('an address this machine does not have (TEST-NET-1)', async () => {
    await expect(listen(newServer(), { host: '192.0.2.1' })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: 'cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine',
    });
  });

  test('a host name that does not resolve', async () => {
    // `.invalid` never resolves (RFC 2606); without a DNS server the lookup
    // fails with EAI_AGAIN instead, which gets its own sentence.
    const error = await listen(newServer(), { host: 'nosuchhost.invalid', port: 5050 }).catch(
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'LISTEN_FAILED' });
    expect((error as Error).message).toMatch(
      /^cannot listen on nosuchhost\.invalid:5050: (unknown host|cannot look up) nosuchhost\.invalid/,
    );
  });

  test('a port outside 0-65535 is a LISTEN_FAILED error, not a throw from Node', async () => {
    await expect(listen(newServer(), { port: 70000 })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: 'cannot listen on 127.0.0.1:70000: 70000 is not a port number (expected 0-65535)',
    });
  });

  test('the server can listen again after a failure (no stale error listener)', async () => {
    const taken = await listen(newServer());
    const server = newServer();
    await expect(listen(server, { port: taken.port })).rejects.toThrow();
    expect(server.listenerCount('error')).toBe(0);
    await expect(listen(server)).resolves.toMatchObject({ address: '127.0.0.1' });
    expect(server.listenerCount('error')).toBe(0);
  });
});

describe('listenFailure', () => {
  const failure = (code: string, host: string, port: number) =>
    listenFailure(Object.assign(new Error(`listen ${code}: from Node`), { code }), host, port);

  // These cannot be provoked portably in a test (root may bind port 80; IPv6
  // may be on), so the mapping itself is checked.
  test.each([
    [
      'EACCES',
      '0.0.0.0',
      80,
      'cannot listen on 0.0.0.0:80: permission denied (ports below 1024 need privileges)',
    ],
    ['EACCES', '0.0.0.0', 8080, 'cannot listen on 0.0.0.0:8080: permission denied'],
    [
      'EAFNOSUPPORT',
      '::1',
      5050,
      "cannot listen on [::1]:5050: this machine does not support ::1's address family (is IPv6 turned off?)",
    ],
    [
      'EADDRNOTAVAIL',
      '2001:db8::1',
      5050,
      'cannot listen on [2001:db8::1]:5050: 2001:db8::1 is not an address of this machine',
    ],
    [
      'EWHATEVER',
      '127.0.0.1',
      5050,
      'cannot listen on 127.0.0.1:5050: listen EWHATEVER: from Node',
    ],
  ])('%s on %s:%d', (code, host, port, message) => {
    const error = failure(code, host, port);
    expect(error.code).toBe('LISTEN_FAILED');
    expect(error.message).toBe(message);
  });
});
