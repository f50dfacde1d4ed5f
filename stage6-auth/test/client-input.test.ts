// The client's phases, one event at a time: what a typed line means before,
// during and after the login (client-input.ts). The real client is tested
// end to end in chat, client-terminal and process tests.
import { initialPhase, transition, type InputEvent, type InputPhase } from '../src/client-input';

const line = (text: string): InputEvent => ({ type: 'line', text });

/** Runs events from a phase; returns where it ends and every effect, in order. */
function run(phase: InputPhase, events: InputEvent[]) {
  const effects = [];
  for (const event of events) {
    const step = transition(phase, event);
    phase = step.phase;
    effects.push(...step.effects);
  }
  return { phase: phase.name, effects };
}

test('--password-stdin: the first line is the password; the next ones wait for welcome', () => {
  expect(
    run(initialPhase(true), [line('pw'), line('hello'), line('/who'), { type: 'welcome' }]),
  ).toEqual({
    phase: 'chatting',
    effects: [
      { type: 'password', text: 'pw' },
      { type: 'send', text: 'hello' },
      { type: 'send', text: '/who' },
    ],
  });
});

test('input that ends before a password line gives up the login', () => {
  expect(run(initialPhase(true), [{ type: 'input-ended' }])).toEqual({
    phase: 'leaving',
    effects: [{ type: 'no-password' }],
  });
});

test('input that ends during the login: what was typed goes out after welcome, then the client leaves', () => {
  const events: InputEvent[] = [line('a'), { type: 'input-ended' }, { type: 'welcome' }];
  expect(run(initialPhase(false), events)).toEqual({
    phase: 'leaving',
    effects: [{ type: 'send', text: 'a' }, { type: 'leave' }],
  });
});

test('nothing is sent before welcome, and nothing after /quit, even if typed ahead', () => {
  expect(run(initialPhase(false), [line('a'), line('/quit'), line('b')])).toEqual({
    phase: 'logging-in',
    effects: [],
  });
  expect(
    run(initialPhase(false), [line('a'), line('/quit'), line('b'), { type: 'welcome' }, line('c')]),
  ).toEqual({
    phase: 'leaving',
    effects: [{ type: 'send', text: 'a' }, { type: 'leave' }],
  });
});

test('chatting: empty lines are skipped; the end of input leaves once; a lost connection leaves quietly', () => {
  const chatting: InputPhase = { name: 'chatting' };
  expect(
    run(chatting, [line(''), line('x'), { type: 'input-ended' }, { type: 'input-ended' }]),
  ).toEqual({
    phase: 'leaving',
    effects: [{ type: 'send', text: 'x' }, { type: 'leave' }],
  });
  expect(run(chatting, [{ type: 'disconnected' }, line('y'), { type: 'input-ended' }])).toEqual({
    phase: 'leaving',
    effects: [],
  });
});
