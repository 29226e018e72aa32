// What a URL should not carry, given beside it: the ACL user, the password as a file, the sentinels'
// own credentials and the TLS material. The same settings come from the gateway config
// (routing.redis.*) and from the command line (--redis-*); each caller names the fields its way.
import type { RedisConnectionConfig, RedisTlsConfig } from './redis-connection.ts';

export interface RedisAuthSettings {
  username?: string;
  passwordFile?: string;
  sentinelUsername?: string;
  sentinelPasswordFile?: string;
  tls?: RedisTlsConfig;
}

export type RedisAuthField = 'username' | 'passwordFile' | 'sentinelUsername' | 'sentinelPasswordFile' | 'tls' | 'tls.certFile' | 'tls.keyFile';

export interface RedisAuthProblem {
  field: RedisAuthField;
  message: string;
}

/** The connection with the settings applied (file paths as given), and every way they contradict the URL. */
export function applyRedisAuth(base: RedisConnectionConfig, settings: RedisAuthSettings): { connection: RedisConnectionConfig; problems: RedisAuthProblem[] } {
  const problems: RedisAuthProblem[] = [];
  const connection: RedisConnectionConfig = { ...base };
  if (settings.username !== undefined) {
    if (base.username !== undefined) problems.push({ field: 'username', message: 'the URL names a user already: give it in one place' });
    connection.username = settings.username;
  }
  if (settings.passwordFile !== undefined) {
    if (base.password !== undefined) problems.push({ field: 'passwordFile', message: 'the URL carries a password already: remove it from the URL' });
    delete connection.password;
    connection.passwordFile = settings.passwordFile;
  }
  for (const field of ['sentinelUsername', 'sentinelPasswordFile'] as const) {
    const value = settings[field];
    if (value === undefined) continue;
    if (base.mode !== 'sentinel') problems.push({ field, message: 'applies to redis+sentinel:// URLs only' });
    connection[field] = value;
  }
  const tls = settings.tls;
  if (tls !== undefined && Object.values(tls).some((v) => v !== undefined)) {
    if (base.tls === undefined) problems.push({ field: 'tls', message: 'applies to rediss:// URLs only: the scheme turns TLS on' });
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      problems.push({ field: tls.certFile === undefined ? 'tls.certFile' : 'tls.keyFile', message: 'a client certificate needs both a certificate file and a key file' });
    }
    connection.tls = { ...tls };
  }
  return { connection, problems };
}
