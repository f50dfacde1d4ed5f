import { DeliveryLedger } from '../delivery-ledger';

// The ledger is the soak's judge: these tests show it convicts each kind of
// delivery failure, and acquits the deliveries its rule says are optional.

function problemsOf(ledger: DeliveryLedger, present: string[]): Record<string, number> {
  return Object.fromEntries(ledger.verify(present).problems);
}

test('every message once, in order, to everyone who was there: no problems', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('a#1');
  ledger.joined('b#1');
  const seqs = [ledger.nextSend('a#1'), ledger.nextSend('a#1'), ledger.nextSend('a#1')];
  expect(seqs).toEqual([1, 2, 3]);
  for (const seq of seqs) ledger.receipt('b#1', 'a#1', seq);
  const verdict = ledger.verify(['a#1', 'b#1']);
  expect(verdict.problems.size).toBe(0);
  expect(verdict).toMatchObject({ sent: 3, received: 3, owedAtEnd: 3 });
});

test('a duplicate, a reordering and a gap are each reported', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('a#1');
  ledger.joined('b#1');
  ledger.joined('c#1');
  ledger.joined('d#1');
  for (let i = 0; i < 3; i++) ledger.nextSend('a#1');
  ledger.receipt('b#1', 'a#1', 1);
  ledger.receipt('b#1', 'a#1', 1); // twice
  ledger.receipt('c#1', 'a#1', 2);
  ledger.receipt('c#1', 'a#1', 1); // out of order (and 1 was skipped when 2 came)
  ledger.receipt('d#1', 'a#1', 3); // 1 and 2 lost, though a later one came
  expect(problemsOf(ledger, [])).toEqual({
    'duplicate or out of order': 2,
    'lost (a later message arrived)': 3,
  });
});

test('a message owed at the end that never came is lost; one sent before the login is not owed', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('a#1');
  ledger.nextSend('a#1'); // before b logged in: optional for b
  ledger.joined('b#1');
  ledger.nextSend('a#1'); // owed to b
  expect(problemsOf(ledger, ['b#1'])).toEqual({ 'lost (owed at the end)': 1 });
  ledger.receipt('b#1', 'a#1', 2);
  expect(ledger.verify(['b#1']).problems.size).toBe(0);
});

test('a receiver that left early is owed nothing at the end, but still no gaps', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('a#1');
  ledger.joined('b#1');
  ledger.nextSend('a#1');
  ledger.nextSend('a#1');
  expect(ledger.verify(['a#1']).problems.size).toBe(0); // b not present at the end
  ledger.receipt('b#1', 'a#1', 2);
  expect(problemsOf(ledger, ['a#1'])).toEqual({ 'lost (a later message arrived)': 1 });
});

test('after an abrupt end only what someone received is certain', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('r#1');
  ledger.joined('s#1');
  ledger.joined('t#1');
  for (let i = 0; i < 3; i++) ledger.nextSend('s#1');
  ledger.ended('s#1', false); // vanished: #3 may never have reached the server
  ledger.receipt('r#1', 's#1', 1);
  ledger.receipt('r#1', 's#1', 2);
  // t got nothing: #1 and #2 were certain (r got them), #3 was not.
  expect(problemsOf(ledger, ['r#1', 't#1'])).toEqual({ 'lost (owed at the end)': 2 });
});

test('a clean end makes every message certain', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('r#1');
  ledger.joined('s#1');
  ledger.nextSend('s#1');
  ledger.ended('s#1', true);
  expect(problemsOf(ledger, ['r#1'])).toEqual({ 'lost (owed at the end)': 1 });
});

test('receipts of messages never sent, or from unknown senders, are reported', () => {
  const ledger = new DeliveryLedger();
  ledger.joined('a#1');
  ledger.joined('b#1');
  ledger.nextSend('a#1');
  ledger.receipt('b#1', 'a#1', 2);
  ledger.receipt('b#1', 'z#9', 1);
  ledger.receipt('nobody#1', 'a#1', 1);
  expect(problemsOf(ledger, [])).toEqual({ 'never sent': 1, 'unknown sender': 2 });
});
