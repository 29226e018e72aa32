// Shared set-up for the bench's own tests: a temp dir, the process registry, the bench PKI and a running
// upstream, all torn down with the test.
import type { TestContext } from 'node:test';
import { makeBenchPki } from '../../loadtest/lib/bench-pki.ts';
import { Processes } from '../../loadtest/lib/processes.ts';
import { startUpstream } from '../../loadtest/upstream/start.ts';
import { makeTempDir } from '../helpers/wait.ts';

export async function benchUpstreamForTest(t: TestContext) {
  const temp = await makeTempDir();
  t.after(() => temp[Symbol.asyncDispose]());
  const processes = new Processes(temp.dir);
  t.after(() => processes.stopAll());
  const pki = await makeBenchPki(temp.dir);
  const upstream = await startUpstream(processes, { certFile: pki.upstreamCertFile, keyFile: pki.upstreamKeyFile, clientCaFile: pki.caFile });
  return { dir: temp.dir, processes, pki, upstream };
}
