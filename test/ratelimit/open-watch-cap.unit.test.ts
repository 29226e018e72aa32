import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenWatchCap } from '../../src/ratelimit/open-watch-cap.ts';

test('bounds open watches in total and per organisation; a release gives the slot back once', () => {
  const cap = new OpenWatchCap({ maxOpen: 3, maxOpenPerOrg: 2 });
  const a1 = cap.tryOpen('acme');
  const a2 = cap.tryOpen('acme');
  assert.ok(a1.admitted && a2.admitted);
  assert.deepEqual(cap.tryOpen('acme'), { admitted: false, scope: 'org' });
  const g1 = cap.tryOpen('globex');
  assert.ok(g1.admitted);
  assert.deepEqual(cap.tryOpen('globex'), { admitted: false, scope: 'gateway' });
  assert.deepEqual(cap.tryOpen(undefined), { admitted: false, scope: 'gateway' });
  a1.release();
  a1.release(); // idempotent: a second release frees nothing more
  assert.equal(cap.open, 2);
  assert.ok(cap.tryOpen('acme').admitted);
  assert.deepEqual(cap.tryOpen('acme'), { admitted: false, scope: 'gateway' });
});

test('0 turns a bound off; paths outside any organisation count only against the total', () => {
  const perOrgOnly = new OpenWatchCap({ maxOpen: 0, maxOpenPerOrg: 1 });
  assert.ok(perOrgOnly.tryOpen('acme').admitted);
  assert.deepEqual(perOrgOnly.tryOpen('acme'), { admitted: false, scope: 'org' });
  for (let i = 0; i < 100; i++) assert.ok(perOrgOnly.tryOpen(undefined).admitted);
  const totalOnly = new OpenWatchCap({ maxOpen: 2, maxOpenPerOrg: 0 });
  assert.ok(totalOnly.tryOpen('acme').admitted && totalOnly.tryOpen('acme').admitted);
  assert.deepEqual(totalOnly.tryOpen('acme'), { admitted: false, scope: 'gateway' });
});
