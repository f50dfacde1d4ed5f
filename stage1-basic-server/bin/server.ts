// Entry point for `npm run stage1`: parse the command line, start the server,
// print what happens. All the logic is in src/server.ts, where tests reach it.
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { keepServingWithoutOutput, parseCommandLine, runMain } from '../../shared/src/cli';
import { formatEndpoint } from '../../shared/src/listen';
import { mappedIPv4, type SocketEnd } from '../src/endpoint';
import { startServer } from '../src/server';

const USAGE = `usage: npm run stage1 -- [--host ADDRESS] [--port PORT]

Listens on ADDRESS:PORT (default 127.0.0.1:5050; --port 0 picks a free port),
accepts one connection, prints both of its ends, closes it and exits.
Try it with: nc 127.0.0.1 5050`;

runMain(async () => {
  keepServingWithoutOutput(); // a closed log pipe must not end the room
  const { endpoint, values } = parseCommandLine(process.argv.slice(2), process.env);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const server = await startServer(endpoint);
  // Before "listening on": whoever reads that line may signal at once, and a
  // signal with no listener kills the process. `on`, not `once`: under npm run
  // the signal can arrive twice (see onShutdownSignal in shared/src/cli.ts).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void server.close());
  }
  console.log(`listening on ${formatEndpoint(server.host, server.port)}`);

  const info = await server.firstConnection;
  if (info === null) return 0; // stopped by Ctrl-C before anyone connected
  const show = (end: SocketEnd) => formatEndpoint(end.address, end.port);
  console.log(`client ${show(info.client)} connected to server ${show(info.server)}`);
  const ipv4 = mappedIPv4(info.client.address);
  if (ipv4 !== null) {
    console.log(
      `(${info.client.address} is the IPv4 address ${ipv4} in IPv6 form: ` +
        `this server listens on an IPv6 socket that also accepts IPv4 clients)`,
    );
  }
  await server.closed;
  console.log('connection closed and server stopped listening; bye');
  return 0;
});
