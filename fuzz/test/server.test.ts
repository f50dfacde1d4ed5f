// The CI slice of the fuzz targets that drive a real stage 6 server: the
// frame handler before and after login, and the network fuzz (fuzzing
// sockets alongside real chatting clients). Fixed seed, small sizes.
import { SERVER_TARGETS } from '../targets';
import { runSlice } from './slice';

test.each(SERVER_TARGETS.map((t) => [t.name, t] as const))('%s', (_name, target) =>
  runSlice(target),
);
