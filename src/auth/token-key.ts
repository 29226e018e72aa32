// The cache key of a bearer token: its SHA-256 (tokens themselves are never kept). Several
// authenticators look at the same token one after the other on every request; the last key is
// remembered so the token is hashed once per request, not once per authenticator.
import { hash } from 'node:crypto';

let lastToken = '';
let lastKey = '';

export function tokenKey(token: string): string {
  if (token !== lastToken) {
    lastKey = hash('sha256', token, 'base64url');
    lastToken = token;
  }
  return lastKey;
}
