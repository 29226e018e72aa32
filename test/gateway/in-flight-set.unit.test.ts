import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlightSet, type InFlightSlot } from '../../src/gateway/in-flight-set.ts';

interface Member extends InFlightSlot {
  name: string;
}
const member = (name: string): Member => ({ name, inFlightSlot: -1 });
const names = (set: InFlightSet<Member>) => [...set].map((m) => m.name).sort();

test('members come and go in any order; the rest stay findable', () => {
  const set = new InFlightSet<Member>();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(member) as [Member, Member, Member, Member];
  for (const m of [a, b, c, d]) set.add(m);
  set.add(b); // already in: no second entry
  assert.equal(set.size, 4);

  assert.equal(set.delete(b), true); // from the middle: the last one takes its place
  assert.equal(set.delete(b), false);
  assert.deepEqual(names(set), ['a', 'c', 'd']);
  assert.deepEqual([set.has(a), set.has(b), set.has(c), set.has(d)], [true, false, true, true]);
  assert.equal(b.inFlightSlot, -1);

  assert.equal(set.delete(d), true);
  assert.equal(set.delete(a), true);
  assert.deepEqual(names(set), ['c']);
  set.add(b);
  assert.deepEqual(names(set), ['b', 'c']);

  set.clear();
  assert.equal(set.size, 0);
  assert.deepEqual([b.inFlightSlot, c.inFlightSlot], [-1, -1]);
});

test('a member of one set is not taken for a member of another', () => {
  const one = new InFlightSet<Member>();
  const other = new InFlightSet<Member>();
  const a = member('a');
  const b = member('b');
  one.add(a);
  other.add(b);
  assert.equal(other.has(a), false);
  assert.equal(other.delete(a), false);
  assert.deepEqual([one.size, other.size], [1, 1]);
});

test('a walk sees the members as they were when it began, whatever it deletes or adds', () => {
  const set = new InFlightSet<Member>();
  const all = ['a', 'b', 'c', 'd', 'e'].map(member);
  for (const m of all) set.add(m);
  const seen: string[] = [];
  for (const m of set) {
    seen.push(m.name);
    set.delete(m);
    if (m.name === 'b') set.add(member('late'));
  }
  assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(names(set), ['late']);
});
