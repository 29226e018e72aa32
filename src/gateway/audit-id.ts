// Audit-IDs for requests that come without one: random (version 4) UUIDs, as kube-apiserver makes.
// crypto.randomUUID() builds its string from 20 concatenated pieces (some 600 bytes of garbage per
// request in the gateway's allocation profile); this writes the 36 characters into one buffer and
// reads them out as one string. The random bytes come from a pool refilled by randomFillSync, as
// randomUUID's own cache does.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(16 * 256);
let used = pool.length;
const text = Buffer.alloc(36);
const hexDigits = Buffer.from('0123456789abcdef', 'latin1');

export function newAuditId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += 16;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 0x2d; // '-'
    let byte = pool[at + i]!;
    if (i === 6)
      byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    text[out++] = hexDigits[byte >> 4]!;
    text[out++] = hexDigits[byte & 0x0f]!;
  }
  return text.toString('latin1');
}
