// The Redis connection of a command line: `--redis URL` plus the `--redis-*` flags for what a URL
// should not carry. Secrets come from files only (`--redis-password-file`): a password flag would show
// in `ps` and shell history. The operator commands also read each flag from an environment variable,
// `--redis-password-file` from KCP_EDGE_REDIS_PASSWORD_FILE and so on (as `--redis` from
// KCP_EDGE_REDIS_URL); a flag wins over its variable.
import { resolve } from 'node:path';
import { applyRedisAuth, type RedisAuthField, type RedisAuthSettings } from './redis-auth-settings.ts';
import { parseRedisUrl, type RedisConnectionConfig } from './redis-connection.ts';

export const REDIS_URL_ENV = 'KCP_EDGE_REDIS_URL';

/** Flag (without `--`) → the setting it fills. */
const settingFlags = {
  'redis-user': 'username',
  'redis-password-file': 'passwordFile',
  'redis-sentinel-user': 'sentinelUsername',
  'redis-sentinel-password-file': 'sentinelPasswordFile',
  'redis-ca-file': 'tls.caFile',
  'redis-cert-file': 'tls.certFile',
  'redis-key-file': 'tls.keyFile',
  'redis-server-name': 'tls.serverName',
} as const;
type SettingFlag = keyof typeof settingFlags;
const fileFlags: ReadonlySet<SettingFlag> = new Set(['redis-password-file', 'redis-sentinel-password-file', 'redis-ca-file', 'redis-cert-file', 'redis-key-file']);

const stringFlag = { type: 'string' } as const;
/** The options to spread into a command's `options`. */
export const redisFlags = {
  redis: stringFlag,
  'redis-user': stringFlag,
  'redis-password-file': stringFlag,
  'redis-sentinel-user': stringFlag,
  'redis-sentinel-password-file': stringFlag,
  'redis-ca-file': stringFlag,
  'redis-cert-file': stringFlag,
  'redis-key-file': stringFlag,
  'redis-server-name': stringFlag,
} as const satisfies Record<'redis' | SettingFlag, { type: 'string' }>;

/** `--redis` → KCP_EDGE_REDIS_URL, `--redis-password-file` → KCP_EDGE_REDIS_PASSWORD_FILE. */
export function envNameOf(flag: string): string {
  return flag === 'redis' ? REDIS_URL_ENV : `KCP_EDGE_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** A flag (or its variable) that cannot be used; the message names it. */
export class RedisFlagError extends Error {}

export interface FlagSource {
  values: Record<string, unknown>;
  /** Environment variables to fall back on; none for `serve`, whose config file is the place for defaults. */
  env?: Record<string, string | undefined>;
}

/** The connection the flags describe; undefined when no URL was given. Relative file paths are taken from the working directory. */
export function redisConnectionFromFlags({ values, env = {} }: FlagSource): RedisConnectionConfig | undefined {
  const get = (flag: string): { value: string; from: string } | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return { value: v, from: `--${flag}` };
    const e = env[envNameOf(flag)];
    return e === undefined || e === '' ? undefined : { value: e, from: envNameOf(flag) };
  };
  const url = get('redis');
  if (url === undefined) return undefined;
  let base: RedisConnectionConfig;
  try {
    base = parseRedisUrl(url.value);
  } catch (err) {
    throw new RedisFlagError(`${url.from}: ${(err as Error).message}`);
  }
  const settings: RedisAuthSettings = {};
  const named = new Map<string, string>();
  let tlsFlag: string | undefined;
  for (const [flag, setting] of Object.entries(settingFlags) as [SettingFlag, (typeof settingFlags)[SettingFlag]][]) {
    const given = get(flag);
    if (given === undefined) continue;
    if (given.value === '') throw new RedisFlagError(`${given.from}: must not be empty`);
    const value = fileFlags.has(flag) ? resolve(given.value) : given.value;
    named.set(setting, given.from);
    if (setting.startsWith('tls.')) {
      settings.tls = { ...settings.tls, [setting.slice('tls.'.length)]: value };
      tlsFlag ??= given.from;
    } else {
      settings[setting as 'username' | 'passwordFile' | 'sentinelUsername' | 'sentinelPasswordFile'] = value;
    }
  }
  const { connection, problems } = applyRedisAuth(base, settings);
  const problem = problems[0];
  if (problem !== undefined) {
    const flagOf = (field: RedisAuthField): string =>
      (field === 'tls' ? tlsFlag : named.get(field)) ?? `--${Object.entries(settingFlags).find(([, s]) => s === field)?.[0] ?? field}`;
    throw new RedisFlagError(`${flagOf(problem.field)}: ${problem.message}`);
  }
  return connection;
}
