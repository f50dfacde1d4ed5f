// The CI slice of the pure fuzz targets: framing, protocol decoders, crypto
// (fixed seed, small sizes; `npm run test:fuzz` runs them large).
import { PURE_TARGETS } from '../targets';
import { runSlice } from './slice';

test.each(PURE_TARGETS.map((t) => [t.name, t] as const))('%s', (_name, target) => runSlice(target));
