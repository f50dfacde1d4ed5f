import fc from 'fast-check';
import { FairQueue } from '../src/fair-queue';

describe('FairQueue', () => {
  test('one lane and one key: first in, first out', () => {
    const queue = new FairQueue<number>();
    for (let i = 0; i < 5; i++) queue.push(i);
    expect([1, 2, 3, 4, 5].map(() => queue.shift())).toEqual([0, 1, 2, 3, 4]);
    expect(queue.shift()).toBeUndefined();
  });

  test('a lower lane is always served first', () => {
    const queue = new FairQueue<string>();
    queue.push('late-low', 1);
    queue.push('urgent', 0);
    queue.push('later-low', 1);
    queue.push('urgent-2', 0);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
      'urgent',
      'urgent-2',
      'late-low',
      'later-low',
    ]);
  });

  test('keys take turns: a key with thirty waiting does not make a newcomer wait thirty', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 30; i++) queue.push(`flood${i}`, 0, 'flooder');
    queue.push('real', 0, 'real-user');
    expect([queue.shift(), queue.shift()]).toEqual(['flood0', 'real']);
    expect(queue.size).toBe(29);
  });

  test('remove takes one item out, wherever it waits', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 0, 'k');
    queue.push('b', 0, 'k');
    expect(queue.remove('a', 0, 'k')).toBe(true);
    expect(queue.remove('a', 0, 'k')).toBe(false);
    expect(queue.remove('b', 1, 'k')).toBe(false); // wrong lane
    expect(queue.size).toBe(1);
    expect(queue.drain()).toEqual(['b']);
    expect(queue.size).toBe(0);
  });

  test('property: every item pushed comes out once; within a key, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom('a', 'b', 'c'))),
        (pushes) => {
          const queue = new FairQueue<number>();
          pushes.forEach(([lane, key], i) => queue.push(i, lane, key));
          const out: number[] = [];
          for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
          expect([...out].sort((x, y) => x - y)).toEqual(pushes.map((_, i) => i));
          for (const key of ['a', 'b', 'c']) {
            for (const lane of [0, 1, 2]) {
              const mine = out.filter((i) => pushes[i]![0] === lane && pushes[i]![1] === key);
              expect(mine).toEqual([...mine].sort((x, y) => x - y));
            }
          }
          // Lanes never go backwards.
          const lanes = out.map((i) => pushes[i]![0]);
          expect(lanes).toEqual([...lanes].sort((x, y) => x - y));
        },
      ),
    );
  });
});
