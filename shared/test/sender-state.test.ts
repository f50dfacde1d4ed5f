import { SenderState } from '../src/sender-state';

/** Runs the send protocol as the wiring would; returns who got a sender key. */
function send(state: SenderState): string[] {
  const plan = state.prepareToSend();
  if (plan !== null) state.markDistributed(plan.recipients);
  state.nextMessageKey();
  return plan?.recipients ?? [];
}

describe('sender state', () => {
  test('the first message starts an epoch and hands the key to every member', () => {
    const state = new SenderState({ firstEpoch: 100, members: ['carol', 'bob'] });
    expect(state.epoch).toBeNull();
    const plan = state.prepareToSend()!;
    expect(plan.recipients).toEqual(['bob', 'carol']);
    expect(plan.senderKey).toMatchObject({ epoch: 100, counter: 0 });
    state.markDistributed(plan.recipients);
    expect(state.nextMessageKey()).toMatchObject({ epoch: 100, counter: 0 });
    expect(send(state)).toEqual([]); // nobody new: nothing to hand out
    expect(state.counter).toBe(2);
  });

  test('a newcomer gets the chain key at the current counter, not from the start', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['bob'] });
    send(state);
    send(state);
    state.memberJoined('dave');
    const plan = state.prepareToSend()!;
    expect(plan.recipients).toEqual(['dave']);
    expect(plan.senderKey).toMatchObject({ epoch: 1, counter: 2 });
    state.markDistributed(plan.recipients);
    expect(state.nextMessageKey().counter).toBe(2);
  });

  test('after a key holder leaves, my next message starts a new epoch for the remaining members only', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['bob', 'carol'] });
    send(state);
    state.memberLeft('carol');
    expect(state.willRotate).toBe(true);
    const plan = state.prepareToSend()!;
    // The new key says where epoch 1 ended: after its one message, counter 0.
    expect(plan.senderKey).toMatchObject({ epoch: 2, counter: 0, previousEnd: 1 });
    expect(plan.recipients).toEqual(['bob']);
    state.markDistributed(plan.recipients);
    expect(state.nextMessageKey()).toMatchObject({ epoch: 2, counter: 0 });
  });

  test('rotation is lazy: many leaves before I speak cost one new epoch', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['a', 'b', 'c', 'd'] });
    send(state);
    for (const name of ['a', 'b', 'c']) state.memberLeft(name);
    expect(send(state)).toEqual(['d']);
    expect(state.epoch).toBe(2);
  });

  test('a member who leaves without ever holding my key changes nothing', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['bob'] });
    send(state);
    state.memberJoined('eve');
    state.memberLeft('eve'); // joined and left while I was silent
    expect(state.willRotate).toBe(false);
    expect(send(state)).toEqual([]);
    expect(state.epoch).toBe(1);
  });

  test('a member who leaves and comes back gets the new epoch, like everyone else', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['bob', 'carol'] });
    send(state);
    state.memberLeft('carol');
    state.memberJoined('carol');
    expect(send(state)).toEqual(['bob', 'carol']);
    expect(state.epoch).toBe(2);
  });

  test('the chain key changes with the epoch; each epoch draws a fresh one', () => {
    const keys = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const state = new SenderState({
      firstEpoch: 1,
      members: ['bob', 'carol'],
      makeChainKey: () => Buffer.from(keys.shift()!),
    });
    expect(state.prepareToSend()!.senderKey.chainKey).toEqual(Buffer.alloc(32, 1));
    state.markDistributed(['bob', 'carol']);
    state.memberLeft('carol');
    expect(state.prepareToSend()!.senderKey.chainKey).toEqual(Buffer.alloc(32, 2));
  });

  test('sending before the key is handed out, or before the new epoch, is refused', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['bob'] });
    expect(() => state.nextMessageKey()).toThrow(/prepareToSend/);
    const plan = state.prepareToSend()!;
    expect(() => state.nextMessageKey()).toThrow(/not distributed to: bob/);
    state.markDistributed(plan.recipients);
    state.nextMessageKey();
    state.memberJoined('dave');
    expect(() => state.nextMessageKey()).toThrow(/dave/);
    state.markDistributed(['dave']);
    state.memberLeft('bob');
    expect(() => state.nextMessageKey()).toThrow(/new epoch/);
  });

  test('marking a name that is not a member does not make it a key holder', () => {
    const state = new SenderState({ firstEpoch: 1, members: ['bob'] });
    state.prepareToSend();
    state.markDistributed(['bob', 'mallory']);
    expect(state.keyHolders).toEqual(['bob']);
  });
});
