// Stage 4: a `/who` command answered to the asker only. The task is in
// stage4-multiclient/README.md, section "Exercises".
import type { Exercise } from '../../kit/check';
import { expectMatch, expectSame } from '../../kit/expect';
import { answerTo } from '../../kit/sentinel';
import { startRoom, type Member } from './room';

/** Sends `/who` and returns its answer, which must be a `* online: ` notice. */
async function ask(member: Member): Promise<string> {
  const line = await answerTo(member.client, '/who');
  expectMatch(line, /^\* online: /, 'the answer to "/who"');
  return line;
}

export const exercise: Exercise = {
  title: '/who: who is online, answered to the asker only',
  readme: 'stage4-multiclient/README.md',
  checks: [
    {
      name: '/who is answered with "* online: " and every label, in join order',
      hint: 'recognise the line "/who" before relaying, and answer with room.send to the asker',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        const b = await join();
        const c = await join();
        expectSame(
          await ask(b),
          `* online: ${a.label}, ${b.label}, ${c.label}`,
          'the answer to "/who"',
        );
      },
    },
    {
      name: 'nobody else sees the /who, nor its answer',
      hint: 'a /who line is a command for the server: it must not be broadcast as a chat line',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        const b = await join();
        await ask(a);
        a.client.send('after the who\n');
        const seen = await b.client.next();
        expectSame(seen, `${a.label}: after the who`, 'the first line the other member saw');
      },
    },
    {
      name: 'a member who left is no longer listed',
      hint: 'build the list from room.members() when /who arrives, not once at join time',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        const b = await join();
        const c = await join();
        b.client.socket.end();
        await a.client.waitFor(new RegExp(`^\\* ${b.label} left`));
        expectSame(await ask(a), `* online: ${a.label}, ${c.label}`, 'the answer to "/who"');
      },
    },
  ],
};
