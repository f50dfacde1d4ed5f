// A stage 4 room for the stage 4 checks: the real server on a free port, and
// members that join it in a known order.
import type { CheckContext } from '../../kit/check';
import { connectLines, type LineSocket } from '../../kit/lines';

/** The stage 4 server, as these exercises use it (its API does not change). */
interface Stage4 {
  startServer(options: { port: number }): Promise<{ port: number; close(): Promise<void> }>;
}

/** A chat member: its socket and the label the server gave it in the welcome. */
export interface Member {
  client: LineSocket;
  label: string;
}

/** Starts a server and returns a function that adds a member to the room. */
export async function startRoom(ctx: CheckContext): Promise<() => Promise<Member>> {
  const { startServer } = ctx.load<Stage4>('stage4-multiclient/src/server');
  const server = await startServer({ port: 0 });
  ctx.defer(() => server.close());
  const members: Member[] = [];
  return async (): Promise<Member> => {
    const client = await connectLines(ctx, server.port);
    const welcome = await client.waitFor(/^\* welcome, you are /);
    const label = /you are (\S+) /.exec(welcome)?.[1] ?? '?';
    // Everyone already in the room has seen the newcomer join: from here on,
    // what each member receives next is in a known order.
    for (const m of members) await m.client.waitFor(new RegExp(`^\\* ${label} joined`));
    const member = { client, label };
    members.push(member);
    return member;
  };
}
