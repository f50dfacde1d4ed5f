/**
 * What a typed line means to the stage 6 client, from start to end.
 *
 * The same line means different things at different times: with
 * `--password-stdin` the first one is the password; while the server checks
 * it, lines wait; after `welcome` they go out; after `/quit` nothing does.
 * Rather than swap callbacks as the login goes on, the client is always in
 * exactly one named phase, and one function, {@link transition}, says
 * what each event does in each phase: the next phase, and what to do
 * (the effects, which the client carries out).
 *
 * ```text
 *  awaiting-password ──line──▶ logging-in ──welcome──▶ chatting ──/quit or end of input──▶ leaving
 *  (--password-stdin)          (lines wait)            (lines go out)                       (lines ignored)
 *        └──────────── end of input: no password ─────────────────────────────────────────▶ leaving
 * ```
 *
 * Without `--password-stdin` the password comes from a hidden prompt before
 * any of this, and the client starts in `logging-in`.
 *
 * @module
 */
import { TYPED_AHEAD_LIMIT } from '../../shared/src/terminal';

/** Where the client is; each phase gives a typed line one meaning. */
export type InputPhase =
  | {
      /** `--password-stdin`: the next line is the password. */
      name: 'awaiting-password';
    }
  | {
      /** The server is checking the password: lines (and the end of input) wait their turn. */
      name: 'logging-in';
      /** Lines typed so far, in order, to send after `welcome`. */
      typedAhead: string[];
      /** Whether input has ended meanwhile: the session ends right after `welcome`. */
      inputEnded: boolean;
    }
  | {
      /** Logged in: a line is a message or a command. */
      name: 'chatting';
    }
  | {
      /** The session is ending: nothing more is sent. */
      name: 'leaving';
    };

/** What can happen to the client's input side. */
export type InputEvent =
  | {
      /** The user typed a line. */
      type: 'line';
      /** The line, without its line break. */
      text: string;
    }
  | {
      /** Input ended (Ctrl-D, Ctrl-C, or the end of a pipe). */
      type: 'input-ended';
    }
  | {
      /** The server said `welcome`: the login is done. */
      type: 'welcome';
    }
  | {
      /** The connection closed (the server ended it, or it was lost). */
      type: 'disconnected';
    };

/** What the client must do after a transition, in order. */
export type InputEffect =
  | {
      /** This line is the password: log in with it. */
      type: 'password';
      /** The password line. */
      text: string;
    }
  | {
      /** Input ended before a password line: give up the login. */
      type: 'no-password';
    }
  | {
      /** Send this line to the room (a chat message, or `/who`). */
      type: 'send';
      /** The line to send. */
      text: string;
    }
  | {
      /** End the session politely. */
      type: 'leave';
    }
  | {
      /** Stop reading input for now: `TYPED_AHEAD_LIMIT` lines wait. */
      type: 'pause-input';
    }
  | {
      /** Read input again: the lines that waited have been handled. */
      type: 'resume-input';
    };

/** A transition's result: the phase to be in now, and what to do. */
export interface InputStep {
  /** The next phase. */
  phase: InputPhase;
  /** What to do, in order (often nothing). */
  effects: InputEffect[];
}

/**
 * The phase a client starts in.
 *
 * @param passwordFromInput - `--password-stdin`: the first line is the password
 */
export function initialPhase(passwordFromInput: boolean): InputPhase {
  return passwordFromInput
    ? { name: 'awaiting-password' }
    : { name: 'logging-in', typedAhead: [], inputEnded: false };
}

/**
 * The one place that decides what an event does. It changes nothing but
 * the list of lines typed ahead during the login, so each phase can be
 * tested with a line of code.
 *
 * @param phase - where the client is
 * @param event - what happened
 * @returns the next phase and the effects to carry out
 *
 * @example
 * ```ts
 * transition({ name: 'chatting' }, { type: 'line', text: 'hi' });
 * //=> { phase: { name: 'chatting' }, effects: [{ type: 'send', text: 'hi' }] }
 * ```
 */
export function transition(phase: InputPhase, event: InputEvent): InputStep {
  const stay: InputStep = { phase, effects: [] };
  if (event.type === 'disconnected') return { phase: { name: 'leaving' }, effects: [] };
  switch (phase.name) {
    case 'awaiting-password':
      if (event.type === 'line') {
        return {
          phase: { name: 'logging-in', typedAhead: [], inputEnded: false },
          effects: [{ type: 'password', text: event.text }],
        };
      }
      if (event.type === 'input-ended') {
        return { phase: { name: 'leaving' }, effects: [{ type: 'no-password' }] };
      }
      return stay; // no welcome can come before the password was sent
    case 'logging-in':
      if (event.type === 'line') {
        // Appended in place, the one exception to "changes nothing": a copy
        // per line would make piping a long file in quadratic. The list
        // belongs to this phase alone.
        phase.typedAhead.push(event.text);
        if (phase.typedAhead.length !== TYPED_AHEAD_LIMIT) return stay;
        return { phase, effects: [{ type: 'pause-input' }] };
      }
      if (event.type === 'input-ended')
        return { phase: { ...phase, inputEnded: true }, effects: [] };
      return replay(phase.typedAhead, phase.inputEnded);
    case 'chatting':
      if (event.type === 'input-ended') {
        return { phase: { name: 'leaving' }, effects: [{ type: 'leave' }] };
      }
      if (event.type !== 'line' || event.text === '') return stay;
      if (event.text === '/quit') {
        return { phase: { name: 'leaving' }, effects: [{ type: 'leave' }] };
      }
      return { phase, effects: [{ type: 'send', text: event.text }] };
    case 'leaving':
      return stay;
  }
}

// Welcome: what waited is handled as if typed now, in order, in `chatting`
// (so a `/quit` typed ahead still ends the session, and what follows it is
// not sent).
function replay(typedAhead: string[], inputEnded: boolean): InputStep {
  let phase: InputPhase = { name: 'chatting' };
  const effects: InputEffect[] = [];
  const events: InputEvent[] = typedAhead.map((text) => ({ type: 'line', text }));
  if (inputEnded) events.push({ type: 'input-ended' });
  for (const event of events) {
    const next = transition(phase, event);
    phase = next.phase;
    for (const effect of next.effects) effects.push(effect);
  }
  // (Lines read after the pause, from the same chunk of input, were kept too.)
  if (typedAhead.length >= TYPED_AHEAD_LIMIT) effects.push({ type: 'resume-input' });
  return { phase, effects };
}
