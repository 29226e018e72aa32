import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListenAddressError, parseListenAddress, parsePort } from '../../src/command/listen-address.ts';

test('listen addresses: host and port, a bracketed IPv6 host, or a bare port on the default host', () => {
  const cases: [string, { host: string; port: number }][] = [
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['sync.example.com:443', { host: 'sync.example.com', port: 443 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['8080', { host: '127.0.0.1', port: 8080 }],
    ['65535', { host: '127.0.0.1', port: 65535 }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseListenAddress(text), want, text);
  assert.deepEqual(parseListenAddress('8080', '0.0.0.0'), { host: '0.0.0.0', port: 8080 });
});

test('anything else is refused with what a listen address or port is', () => {
  const cases: [string, RegExp][] = [
    ['abc', /"abc" is not a listen address: HOST:PORT, \[IPV6\]:PORT or PORT/],
    ['host:http', /"host:http": "http" is not a port: a whole number from 0 to 65535/],
    ['host:', /"" is not a port/],
    [':8080', /not a listen address/],
    ['127.0.0.1:70000', /"70000" is not a port/],
    ['127.0.0.1:0x1f90', /"0x1f90" is not a port/],
    ['127.0.0.1: 80', /" 80" is not a port/],
    ['::1:8080', /an IPv6 host goes in brackets, \[::1\]:8080/],
    ['', /not a listen address/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseListenAddress(text),
      (err: unknown) => err instanceof ListenAddressError && message.test(err.message),
      text,
    );
  }
});

test('ports: decimal digits up to 65535 only', () => {
  assert.equal(parsePort('0'), 0);
  assert.equal(parsePort('6443'), 6443);
  for (const text of ['', '-1', '1e3', '0x10', '65536', '80.0', ' 80', 'eighty']) {
    assert.throws(() => parsePort(text), ListenAddressError, text);
  }
});
