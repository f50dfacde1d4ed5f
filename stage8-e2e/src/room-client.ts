/**
 * The client's end-to-end wiring: server frames in, the shared core's
 * `E2eSession` in the middle, lines for the user out. No terminal here, so
 * the tests drive the same code the program runs.
 *
 * ```text
 * server frame          E2eSession call                 the user sees
 * --------------------  ------------------------------  -------------------------------
 * member / joined       addMember(name, keys)           "* carol joined" (loud if changed)
 * left                  removeMember(name)              "* carol left" (next send rotates)
 * sender-key            receiveKeyBox(from, box)        nothing, "! N … missing", or "! CODE …"
 * e2e-chat              open(from, message) → text      "alice: text", or "! CODE …"
 * a typed line          seal(text) → boxes + message    (frames out: every box, then the message)
 * ```
 *
 * A refused frame is a warning naming the code and the claimed sender, never
 * its text: the session's state only moves when a message verifies and opens.
 *
 * @module
 */
import type tls from 'node:tls';
import type { E2eSession } from '../../shared/src/e2e-session';
import type { MissingMessages } from '../../shared/src/receiver-chains';
import { ChatError, isChatError } from '../../shared/src/errors';
import { verifyKeyBundle, type Identity, type KeyBundleWire } from '../../shared/src/identity-keys';
import { formatDigits, safetyNumber } from '../../shared/src/safety-number';
import { MAX_KNOWN_MEMBERS } from '../../shared/src/known-members';
import { RelayPace } from '../../shared/src/relay-pace';
import { sanitizeForTerminal as safe } from '../../shared/src/terminal';
import type { ShownFrame } from './client-login';
import type { FrameOf } from '../../shared/src/protocol';
import { bundleOf, encodeClientFrame, MAX_LINE_BYTES, type SENDER_KEY_RELAY } from './messages';
import { renderServerFrame } from './render';

type SenderKeyFrame = FrameOf<typeof SENDER_KEY_RELAY>;

/** Key boxes kept per held member: a sender rotates rarely, so a few is plenty. */
const MAX_HELD_BOXES = 4;

/** Where the room's lines go. */
export interface RoomOutput {
  /** An opened message, `alice: hello` (stdout). */
  chat(line: string): void;
  /** A notice, `* bob joined …` (stderr). */
  notice(line: string): void;
  /** A refusal or a key change, `! CODE …` (stderr). */
  warning(line: string): void;
}

/** One logged-in member's room, end to end. */
export class RoomClient {
  private readonly waitingForKeys = new Set<string>();
  // Key boxes from a member held after a key change, kept (a few) until the
  // user decides: after `/trust` they are opened, so the member's next
  // messages can be read without it having to resend its sender key.
  private readonly heldBoxes = new Map<string, SenderKeyFrame[]>();

  /**
   * @param socket - the logged-in connection
   * @param identity - my unlocked identity (for `/verify` of someone offline)
   * @param session - my end-to-end session (one per login)
   * @param out - where lines go
   * @param pace - counts every frame written, for the wait when leaving (`relay-pace.ts`)
   */
  constructor(
    private readonly socket: tls.TLSSocket,
    private readonly identity: Identity,
    readonly session: E2eSession,
    private readonly out: RoomOutput,
    private readonly pace = new RelayPace(),
  ) {}

  /**
   * Writes one encoded frame, counted against the server's message budget.
   *
   * @param frame - the encoded frame
   * @returns `false` when the socket's buffer is full (wait for `drain`)
   */
  write(frame: Buffer): boolean {
    this.pace.sent();
    return this.socket.write(frame);
  }

  /**
   * Handles one frame from the server.
   *
   * @param frame - a decoded frame (`ping` and `ticket` never get here)
   */
  receive(frame: ShownFrame): void {
    switch (frame.type) {
      case 'member':
        return this.member(frame.user, frame);
      case 'joined':
        this.out.notice(renderServerFrame(frame).text);
        return this.member(frame.who, frame);
      case 'left':
        this.session.removeMember(frame.who);
        return this.out.notice(renderServerFrame(frame).text);
      case 'sender-key':
        return this.refusing(frame.from, 'key box', () => {
          let missing: MissingMessages;
          try {
            missing = this.session.receiveKeyBox(frame.from, frame);
          } catch (err) {
            if (isChatError(err, 'MEMBER_KEY_CHANGED')) this.holdBox(frame);
            throw err;
          }
          // The last messages of the sender's previous epoch that never came.
          this.tellMissing(frame.from, missing.count, missing.atLeast);
        });
      case 'e2e-chat':
        return this.refusing(frame.from, 'message', () => {
          const text = this.session.open(frame.from, frame);
          this.tellOrder(frame.from);
          this.out.chat(`${safe(frame.from)}: ${safe(text)}`);
        });
      case 'keys':
        return this.keysAnswer(frame.user, frame);
      default: {
        const shown = renderServerFrame(frame);
        if (shown.kind === 'warning') this.out.warning(shown.text);
        else this.out.notice(shown.text);
      }
    }
  }

  /**
   * Seals and sends one chat line: my sender key to whoever lacks it first,
   * then the message, on this one connection (the order the receivers need).
   *
   * @param text - the line
   * @returns `false` when the socket's buffer is full (wait for `drain`)
   */
  say(text: string): boolean {
    const length = Buffer.byteLength(text, 'utf8');
    if (length > MAX_LINE_BYTES) {
      this.out.warning(`! not sent: message is ${length} bytes; the limit is ${MAX_LINE_BYTES}`);
      return true;
    }
    const { keyBoxes, message } = this.session.seal(text);
    // Not counted: the server lets the first box to each member after a
    // change of membership through free (key-box-allowance.ts), and a count
    // of them would have the client wait minutes for nothing when it leaves.
    for (const { to, box } of keyBoxes) {
      this.socket.write(encodeClientFrame({ type: 'sender-key', to, ...box }));
    }
    return this.write(encodeClientFrame({ type: 'e2e-chat', ...message }));
  }

  /**
   * Runs `/verify NAME`, `/fingerprint` or `/trust NAME`.
   *
   * @param line - what the user typed
   * @returns whether it was one of these commands
   */
  command(line: string): boolean {
    const [command, name, extra] = line.trim().split(/\s+/);
    if (command === '/fingerprint' && name === undefined) {
      this.out.notice(`* your fingerprint: ${formatDigits(this.session.fingerprint())}`);
      return true;
    }
    if (
      (command === '/verify' || command === '/trust') &&
      name !== undefined &&
      extra === undefined
    ) {
      if (command === '/trust') {
        const accepted = this.session.acceptKey(name);
        this.out.notice(
          accepted
            ? `* ${safe(name)}'s new key is trusted now`
            : `* ${safe(name)} has no changed key waiting`,
        );
        const boxes = this.heldBoxes.get(name) ?? [];
        this.heldBoxes.delete(name);
        if (accepted) for (const box of boxes) this.receive(box);
        return true;
      }
      const digits = this.session.safetyNumber(name);
      if (digits !== null) this.showSafetyNumber(name, digits);
      else {
        // Not in the room: ask the server for the newest stored keys.
        this.waitingForKeys.add(name);
        this.write(encodeClientFrame({ type: 'keys', user: name }));
      }
      return true;
    }
    return false;
  }

  // The server can drop or reorder messages; the counters show it, so say so
  // (before the message it concerns).
  private tellOrder(from: string): void {
    const { skipped, late } = this.session.lastOrder;
    this.tellMissing(from, skipped);
    if (late) {
      this.out.warning(
        `! the next message from ${safe(from)} is late: it was sent before ones already shown`,
      );
    }
  }

  private tellMissing(from: string, count: number, atLeast = false): void {
    if (count === 0) return;
    const [messages, verb, them] =
      count === 1 ? ['1 message', 'is', 'it'] : [`${count} messages`, 'are', 'them'];
    if (atLeast) {
      // A whole epoch's key box never came: its messages, and who knows how
      // many before them.
      return this.out.warning(
        `! at least ${messages} from ${safe(from)} ${verb} missing: a key of theirs never reached you`,
      );
    }
    this.out.warning(
      `! ${messages} from ${safe(from)} ${verb} missing: the server dropped or delayed ${them}`,
    );
  }

  private holdBox(frame: SenderKeyFrame): void {
    const boxes = this.heldBoxes.get(frame.from) ?? [];
    boxes.push(frame);
    this.heldBoxes.set(frame.from, boxes.slice(-MAX_HELD_BOXES));
  }

  private member(name: string, frame: KeyBundleWire): void {
    try {
      const decision = this.session.addMember(name, bundleOf(frame));
      // Boxes held with a changed key are for that key only.
      if (decision.status !== 'changed') this.heldBoxes.delete(name);
      if (decision.status === 'not-recorded') {
        this.out.warning(
          `! ${safe(name)}'s key is not pinned: your known-members file is full ` +
            `(${MAX_KNOWN_MEMBERS} names); /verify ${safe(name)} before trusting it`,
        );
      }
      if (decision.status === 'changed') {
        // One line at a time: the console keeps every line to one line.
        this.out.warning(`! ${decision.warning.code}: ${safe(name)}'s key changed`);
        for (const line of decision.warning.message.split('\n'))
          this.out.warning(`! ${safe(line)}`);
        this.out.warning(`! compare /verify ${safe(name)} out of band, then /trust ${safe(name)}`);
      }
    } catch (err) {
      this.warnRefused(name, 'keys', err);
    }
  }

  private keysAnswer(name: string, frame: KeyBundleWire): void {
    if (!this.waitingForKeys.delete(name)) return;
    try {
      const keys = verifyKeyBundle(name, bundleOf(frame));
      this.showSafetyNumber(
        name,
        safetyNumber(this.identity, keys),
        ' (from the server: not in the room)',
      );
    } catch (err) {
      this.warnRefused(name, 'keys', err);
    }
  }

  private showSafetyNumber(name: string, digits: string, note = ''): void {
    this.out.notice(
      `* safety number with ${safe(name)}${note}; compare it with theirs out of band:`,
    );
    for (const line of formatDigits(digits, 4).split('\n')) this.out.notice(`*   ${line}`);
  }

  private refusing(from: string, what: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.warnRefused(from, what, err);
    }
  }

  private warnRefused(from: string, what: string, err: unknown): void {
    if (!isChatError(err)) throw err;
    const error = err as ChatError;
    this.out.warning(
      `! ${error.code}: refused a ${what} from ${safe(from)} (${safe(error.message)})`,
    );
  }
}
