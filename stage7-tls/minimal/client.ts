/**
 * The smallest pinning TLS client: connects, checks that the server's key
 * has the fingerprint it was given, and only then sends stdin and prints
 * what comes back.
 *
 * ```sh
 * npm run stage7:minimal                      # prints the port and the fingerprint
 * npm run stage7:minimal:client -- --port PORT --fingerprint SHA256:…
 * ```
 *
 * The whole lesson is in {@link connectMinimal}: `rejectUnauthorized: false`
 * because no CA signed a self-signed certificate, and therefore a check of
 * our own, on `secureConnect`, before the first write. Without that check
 * this client would talk to anyone.
 *
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { parseCommandLine, runMain } from '../../shared/src/cli';
import { ChatError } from '../../shared/src/errors';

/**
 * Connects to `host:port` with TLS 1.3 and resolves with the socket once the
 * server's key matches `pin`. Before that, nothing is written.
 *
 * @param host - the server's address
 * @param port - its port
 * @param pin - the expected fingerprint, `SHA256:…` (as the server printed it)
 * @throws ChatError `FINGERPRINT_MISMATCH` if the server's key has another fingerprint
 */
export function connectMinimal(host: string, port: number, pin: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['socket-chat/7'],
      rejectUnauthorized: false, // no CA vouches for a self-signed key: we check it ourselves
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      // The key's fingerprint: SHA-256 over its SubjectPublicKeyInfo, as ssh prints it.
      const certificate = new X509Certificate(socket.getPeerCertificate().raw);
      const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
      const seen = 'SHA256:' + createHash('sha256').update(spki).digest('base64').replace(/=$/, '');
      if (seen !== pin) {
        socket.destroy(); // not one byte was written
        reject(
          new ChatError(
            'FINGERPRINT_MISMATCH',
            `server key is ${seen}, expected ${pin}; nothing was sent`,
          ),
        );
        return;
      }
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

if (require.main === module) {
  runMain(async () => {
    const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env, {
      fingerprint: { type: 'string' },
    });
    if (values.fingerprint === undefined) {
      throw new ChatError(
        'BAD_ARGUMENT',
        'pass --fingerprint SHA256:… as the minimal server printed it',
      );
    }
    const socket = await connectMinimal(endpoint.host, endpoint.port, values.fingerprint);
    console.error(`* connected; the server's key matches ${values.fingerprint}`);
    process.stdin.pipe(socket); // stdin's end half-closes the connection…
    socket.pipe(process.stdout); // …the server echoes the rest and closes: we exit
    socket.on('error', (err) => console.error(`error: ${err.message}`));
  });
}
