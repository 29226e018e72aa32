// The one reading of a listen address, for every command and config field that takes one: `HOST:PORT`,
// `[IPV6]:PORT`, or a bare `PORT` on the default host. A port is decimal digits from 0 to 65535 (0: the
// system picks one), nothing else: `Number()` would take "", "0x1f90", " 80" and "1e3" without a word.
export interface ListenAddress {
  host: string;
  port: number;
}

/** What is wrong with a listen address or port, said so an operator can fix the flag or field. */
export class ListenAddressError extends Error {}

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new ListenAddressError(`"${text}" is not a port: a whole number from 0 to 65535`);
  }
  return Number(text);
}

export function parseListenAddress(text: string, defaultHost = '127.0.0.1'): ListenAddress {
  if (/^\d+$/.test(text)) return { host: defaultHost, port: parsePort(text) };
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(text);
  const colon = text.lastIndexOf(':');
  const [host, port] = bracketed !== null ? [bracketed[1]!, bracketed[2]!] : [text.slice(0, colon), text.slice(colon + 1)];
  if (colon < 0 || host === '') throw new ListenAddressError(`"${text}" is not a listen address: HOST:PORT, [IPV6]:PORT or PORT`);
  if (bracketed === null && host.includes(':')) throw new ListenAddressError(`"${text}": an IPv6 host goes in brackets, [${host}]:${port}`);
  try {
    return { host, port: parsePort(port) };
  } catch (err) {
    throw new ListenAddressError(`"${text}": ${(err as Error).message}`);
  }
}
