// Generated Audit-IDs are version-4 UUIDs, all different, across pool refills.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newAuditId } from '../../src/gateway/audit-id.ts';

test('every generated Audit-ID is a distinct version-4 UUID, across many refills of the random pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = newAuditId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
});

test('its digits are spread like random ones (no byte stuck)', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 4_000; i++) {
    const id = newAuditId().replaceAll('-', '');
    // Skip the version nibble (12) and the variant nibble (16), which are fixed or limited by design.
    for (let j = 0; j < 32; j++) if (j !== 12 && j !== 16) counts.set(id[j]!, (counts.get(id[j]!) ?? 0) + 1);
  }
  // 4 000 × 30 digits over 16 values: 7 500 expected each; a stuck digit would be far off.
  for (const digit of '0123456789abcdef') assert.ok(Math.abs(counts.get(digit)! - 7_500) < 600, `${digit}: ${counts.get(digit)}`);
});
