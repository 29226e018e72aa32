// Verified claims → Identity, the way kube-apiserver's AuthenticationConfiguration claimMappings do it:
// a username claim (the `email` claim only when email_verified is true), a groups claim (string or
// array of strings), a prefix on each, and no empty or `system:` names, which belong to Kubernetes.
import type { JWTPayload } from 'jose';
import { AuthFailure } from './auth-failure.ts';
import type { Identity } from './identity.ts';
import type { Realm } from './realm-settings.ts';

const reserved = 'system:';

export function mapClaims(realm: Realm, claims: JWTPayload): Identity {
  checkRequiredClaims(realm, claims);
  const { username, groups } = realm.claimMappings;

  const rawUser = claims[username.claim];
  if (rawUser === undefined || rawUser === null || rawUser === '') throw new AuthFailure('username_missing', `claim "${username.claim}" is empty or absent`);
  if (typeof rawUser !== 'string') throw new AuthFailure('claim_invalid', `claim "${username.claim}" is not a string`);
  if (username.claim === 'email' && claims.email_verified !== true) throw new AuthFailure('email_not_verified', 'email_verified is not true');
  const user = username.prefix + rawUser;
  if (rawUser.startsWith(reserved) || user.startsWith(reserved)) throw new AuthFailure('system_identity', `username "${user}"`);

  const rawGroups = claims[groups.claim];
  let names: string[];
  if (rawGroups === undefined || rawGroups === null) names = [];
  else if (typeof rawGroups === 'string') names = [rawGroups];
  else if (Array.isArray(rawGroups) && rawGroups.every((g): g is string => typeof g === 'string')) names = rawGroups;
  else throw new AuthFailure('claim_invalid', `claim "${groups.claim}" is neither a string nor an array of strings`);
  const mapped: string[] = [];
  for (const name of names) {
    if (name === '') throw new AuthFailure('claim_invalid', `claim "${groups.claim}" holds an empty group`);
    const group = groups.prefix + name;
    if (name.startsWith(reserved) || group.startsWith(reserved)) throw new AuthFailure('system_identity', `group "${group}"`);
    if (!mapped.includes(group)) mapped.push(group);
  }
  const unchanged = user === rawUser && mapped.length === names.length && mapped.every((g, i) => g === names[i]);
  return unchanged ? { user, groups: mapped, extra: {} } : { user, groups: mapped, extra: {}, source: { user: rawUser, groups: [...names] } };
}

function checkRequiredClaims(realm: Realm, claims: JWTPayload): void {
  for (const [name, expected] of Object.entries(realm.requiredClaims)) {
    const value = claims[name];
    const ok = Array.isArray(value) ? value.includes(expected) : value === expected;
    if (!ok) throw new AuthFailure('required_claim_mismatch', `claim "${name}" is not "${expected}"`);
  }
}
