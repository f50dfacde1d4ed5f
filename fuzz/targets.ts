/**
 * Every fuzz target, in the order the campaign runs them. The CI slice
 * (fuzz/test) and the full campaign (fuzz/run.ts) both read this list, so a
 * property is defined once and runs at two sizes.
 */
import type { FuzzTarget } from './campaign';
import { networkFuzz } from './network/campaign';
import { cryptoRoundTrip, cryptoTamper, cryptoText } from './properties/crypto';
import { handlerChatting, handlerHandshake } from './properties/handler';
import { framingModel, framingRoundTrip } from './properties/framing';
import { protocolCredentials, protocolDecoders, protocolRoundTrip } from './properties/protocol';

/** The pure targets: no sockets, thousands of cases per second. */
export const PURE_TARGETS: readonly FuzzTarget[] = [
  framingModel,
  framingRoundTrip,
  protocolDecoders,
  protocolRoundTrip,
  protocolCredentials,
  cryptoRoundTrip,
  cryptoTamper,
  cryptoText,
];

/** The targets that drive a real in-process stage 6 server over sockets. */
export const SERVER_TARGETS: readonly FuzzTarget[] = [
  handlerChatting,
  handlerHandshake,
  networkFuzz,
];

/** Every target: the pure ones, then those that drive a real stage 6 server. */
export const ALL_TARGETS: readonly FuzzTarget[] = [...PURE_TARGETS, ...SERVER_TARGETS];
