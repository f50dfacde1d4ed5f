// A relay that does exactly what the stage 8 server will do with end-to-end
// traffic, without sockets: it announces members with their key bundles,
// routes key boxes to their recipient, fans room messages out to everyone
// else, stamps `from`, and keeps a copy of every frame it handled (its whole
// view, for the "the server learns nothing" test). Each member is a real
// E2eSession; frames cross as JSON text, as on the wire.
import { E2eSession } from '../../shared/src/e2e-session';
import { encodeKeyBundle, type Identity } from '../../shared/src/identity-keys';
import { KnownMembers, type TrustDecision } from '../../shared/src/known-members';

/** What a member saw: opened lines, and refusals by code. */
export interface Inbox {
  lines: string[];
  refused: string[];
  warnings: TrustDecision[];
}

interface Member {
  identity: Identity;
  session: E2eSession;
  inbox: Inbox;
}

export class Relay {
  /** Every frame the relay handled, as JSON text: the server's view. */
  readonly traffic: string[] = [];
  private readonly members = new Map<string, Member>();
  private epochClock = 1_700_000_000_000;

  /** `identity` logs in and joins; existing members and it learn of each other. */
  join(identity: Identity, known = KnownMembers.inMemory()): E2eSession {
    const session = new E2eSession({ identity, known, firstEpoch: this.epochClock++ });
    const inbox: Inbox = { lines: [], refused: [], warnings: [] };
    const newcomer = { identity, session, inbox };
    for (const other of this.members.values()) {
      this.announce(other, newcomer.identity);
      this.announce(newcomer, other.identity);
    }
    this.members.set(identity.username, newcomer);
    return session;
  }

  /** `username` leaves; the others are told. */
  leave(username: string): void {
    this.members.delete(username);
    for (const other of this.members.values()) {
      this.traffic.push(JSON.stringify({ type: 'left', user: username }));
      other.session.removeMember(username);
    }
  }

  /** `username` types `text`; returns the frames the relay carried for it. */
  say(username: string, text: string): string[] {
    const from = this.members.get(username)!;
    const out = from.session.seal(text);
    const frames: string[] = [];
    for (const { to, box } of out.keyBoxes) {
      const frame = JSON.stringify({ type: 'sender-key', from: username, to, ...box });
      frames.push(frame);
      this.deliver(to, frame);
    }
    const frame = JSON.stringify({ type: 'e2e-chat', from: username, ...out.message });
    frames.push(frame);
    for (const name of this.members.keys()) if (name !== username) this.deliver(name, frame);
    return frames;
  }

  /** Delivers one frame (new, or replayed from `traffic`) to one member. */
  deliver(to: string, frame: string): void {
    this.traffic.push(frame);
    const member = this.members.get(to);
    if (member === undefined) return;
    const parsed = JSON.parse(frame) as { type: string; from: string };
    try {
      if (parsed.type === 'sender-key') member.session.receiveKeyBox(parsed.from, parsed);
      else member.inbox.lines.push(`${parsed.from}: ${member.session.open(parsed.from, parsed)}`);
    } catch (err) {
      member.inbox.refused.push((err as { code?: string }).code ?? String(err));
    }
  }

  /** What `username` has seen. */
  inbox(username: string): Inbox {
    return this.members.get(username)!.inbox;
  }

  /** Announces `about`'s published keys to `to` (a server may publish other keys: see `announceKeys`). */
  announce(to: Member | string, about: Identity): void {
    this.announceKeys(to, about.username, encodeKeyBundle(about));
  }

  /** Announces `bundle` as `username`'s keys to `to`. */
  announceKeys(to: Member | string, username: string, bundle: object): void {
    const member = typeof to === 'string' ? this.members.get(to)! : to;
    const frame = JSON.stringify({ type: 'member', user: username, keys: bundle });
    this.traffic.push(frame);
    const decision = member.session.addMember(username, bundle);
    if (decision.status === 'changed') member.inbox.warnings.push(decision);
  }
}
