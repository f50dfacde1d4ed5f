// Stage 4: `/nick NAME`, a chosen name instead of the address. The task is in
// stage4-multiclient/README.md, section "Exercises".
import type { Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';
import { answerTo } from '../../kit/sentinel';
import { startRoom, type Member } from './room';

async function expectRenamed(member: Member, name: string): Promise<void> {
  const line = await answerTo(member.client, `/nick ${name}`);
  expectSame(line, `* you are now ${name}`, `the answer to "/nick ${name}"`);
  member.label = name;
}

async function expectRefused(member: Member, name: string, code: string): Promise<void> {
  const line = await answerTo(member.client, `/nick ${name}`);
  if (!line.startsWith(`! ${code}: `)) {
    throw new Error(`"/nick ${name}" got ${JSON.stringify(line)}, expected "! ${code}: ..."`);
  }
}

export const exercise: Exercise = {
  title: '/nick NAME: a chosen name instead of the address',
  readme: 'stage4-multiclient/README.md',
  checks: [
    {
      name: '"/nick alice" answers "* you are now alice" and tells the others "* OLD is now alice"',
      hint: 'recognise "/nick NAME" before relaying; the member needs a label you can change',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        const b = await join();
        const old = a.label;
        await expectRenamed(a, 'alice');
        expectSame(await b.client.next(), `* ${old} is now alice`, 'what the other member saw');
      },
    },
    {
      name: 'from then on, chat lines and the "left" notice carry the nickname',
      hint: 'every line that names a member must read the label when it is sent, not at join',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        const b = await join();
        await expectRenamed(a, 'alice');
        await b.client.next(); // "* OLD is now alice"
        a.client.send('hello\n');
        expectSame(await b.client.next(), 'alice: hello', 'the chat line the other member saw');
        a.client.socket.end();
        expectSame(await b.client.next(), '* alice left (1 online)', 'the notice when alice left');
      },
    },
    {
      name: 'a nickname someone else has gets "! NAME_TAKEN: ..." and changes nothing',
      hint: 'look through room.members() before renaming; refuse with ChatError NAME_TAKEN',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        const b = await join();
        await expectRenamed(a, 'alice');
        await b.client.next(); // "* OLD is now alice"
        await expectRefused(b, 'alice', 'NAME_TAKEN');
        b.client.send('still me\n');
        expectSame(
          await a.client.next(),
          `${b.label}: still me`,
          'the refused member, speaking next',
        );
      },
    },
    {
      name: 'a nickname that could pass for an address or a notice gets "! BAD_USERNAME: ..."',
      hint: 'allow 1-16 of A-Z a-z 0-9 _ - only: no ":", no ".", no spaces, no "*"',
      async run(ctx) {
        const join = await startRoom(ctx);
        const a = await join();
        for (const bad of [
          '127.0.0.1:5050',
          '[::1]:5050',
          'two words',
          '* admin',
          'x'.repeat(17),
          '',
        ]) {
          await expectRefused(a, bad, 'BAD_USERNAME');
        }
        await expectRenamed(a, 'Bob_the-2nd');
      },
    },
  ],
};
