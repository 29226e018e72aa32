// pino's Logger is a Log as it is: commands hand theirs (or a child) to any module without adapters.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { silentLog, type Log } from '../src/log.ts';

test('a pino logger is a Log, and writes the fields and the message of every level', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const log: Log = pino({ level: 'debug' }, sink).child({ component: 'test' });
  log.error({ n: 1 }, 'e');
  log.warn({ n: 2 }, 'w');
  log.info({ n: 3 }, 'i');
  log.debug({ n: 4 }, 'd');
  assert.deepEqual(
    lines.map(({ level, component, n, msg }) => ({ level, component, n, msg })),
    [
      { level: 50, component: 'test', n: 1, msg: 'e' },
      { level: 40, component: 'test', n: 2, msg: 'w' },
      { level: 30, component: 'test', n: 3, msg: 'i' },
      { level: 20, component: 'test', n: 4, msg: 'd' },
    ],
  );
  assert.equal(log.isLevelEnabled?.('debug'), true);
  assert.equal(log.isLevelEnabled?.('trace'), false, 'a hot path can skip what would not be written');
});

test('the silent log takes every call', () => {
  for (const level of ['error', 'warn', 'info', 'debug'] as const) assert.equal(silentLog[level]({ a: 1 }, 'nothing'), undefined);
});
