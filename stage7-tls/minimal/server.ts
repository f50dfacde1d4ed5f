/**
 * The smallest TLS server: a TLS 1.3 echo server with a fresh self-signed
 * certificate, in a few dozen lines. `npm run stage7:minimal [-- --port N]`
 * prints the port and the fingerprint of its key; the minimal client
 * (`minimal/client.ts`) pins that fingerprint.
 *
 * Everything here is `node:tls`, except making the certificate, which is
 * shared/src/certificate.ts. The key lives in memory only, so every start
 * is a new key and a new fingerprint: the full stage keeps its key in a file.
 *
 * @module
 */
import tls from 'node:tls';
import { generateCertificate } from '../../shared/src/certificate';
import { onShutdownSignal, parseCommandLine, runMain } from '../../shared/src/cli';

/** A running minimal server. */
export interface MinimalServer {
  /** The port it listens on. */
  port: number;
  /** `SHA256:…` of its public key: give it to clients. */
  fingerprint: string;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts the echo server: every byte a client sends inside TLS comes back.
 * When a connection closes it says how many bytes it echoed.
 *
 * @param host - the address to listen on
 * @param port - the port (0: any free port)
 * @param say - where to print (default stdout)
 */
export async function startMinimalServer(
  host: string,
  port: number,
  say: (line: string) => void = console.log,
): Promise<MinimalServer> {
  const { certificatePem, privateKeyPem, fingerprint } = await generateCertificate();
  const open = new Set<tls.TLSSocket>();
  const server = tls.createServer(
    {
      cert: certificatePem,
      key: privateKeyPem,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['socket-chat/7'],
    },
    (socket) => {
      const peer = `${socket.remoteAddress}:${socket.remotePort}`;
      let bytes = 0;
      open.add(socket);
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('error', () => {}); // a client that vanishes is not our problem
      socket.on('close', () => {
        open.delete(socket);
        say(`${peer}: closed after ${bytes} bytes`);
      });
      socket.pipe(socket); // echo: what comes in goes out, through TLS both ways
    },
  );
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    fingerprint,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

if (require.main === module) {
  runMain(async () => {
    const { endpoint } = parseCommandLine(process.argv.slice(2), process.env);
    const server = await startMinimalServer(endpoint.host, endpoint.port);
    const signal = onShutdownSignal();
    console.log(`fingerprint: ${server.fingerprint}`);
    console.log(`listening on ${endpoint.host}:${server.port}`);
    await signal;
    await server.close();
  });
}
