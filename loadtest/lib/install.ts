// The bench brings its own tools: Debian's nginx, caddy and wrk, installed when missing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function onPath(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Ensures each command is on PATH, installing its Debian package (command → package) when it is not. */
export async function ensureCommands(packages: Record<string, string>, log: (line: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const [command, pkg] of Object.entries(packages)) {
    if (!(await onPath(command))) missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(', ')}; install them (apt-get install -y ${missing.join(' ')}) or run the bench as root`);
  }
  log(`installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, maxBuffer: 64 << 20 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, maxBuffer: 64 << 20 });
  for (const command of Object.keys(packages)) {
    if (!(await onPath(command))) throw new Error(`${command} is still missing after apt-get install`);
  }
}

export async function versionOf(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args);
    return (stdout + stderr).trim().split('\n')[0] ?? '';
  } catch {
    return 'unknown';
  }
}
