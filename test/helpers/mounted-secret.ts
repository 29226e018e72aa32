// A directory laid out the way kubelet mounts a Secret volume: `<key>` → `..data/<key>`, `..data` →
// a versioned directory. `update` rotates it the way kubelet does: a new versioned directory, a
// `..data_tmp` symlink to it renamed over `..data` (atomic), the old version removed. A reader that
// watched the key's inode, or the key's name alone, would miss it.
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MountedSecret {
  readonly dir: string;
  /** The path a container reads a key at. */
  path(key: string): string;
  /** Replaces every key's content at once (keys must stay the same). */
  update(files: Record<string, string>): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function mountedSecret(files: Record<string, string>): Promise<MountedSecret> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-edge-secret-'));
  let version = 0;
  const writeVersion = async (content: Record<string, string>): Promise<string> => {
    const name = `..v${++version}`;
    await mkdir(join(dir, name));
    for (const [key, text] of Object.entries(content)) await writeFile(join(dir, name, key), text, { mode: 0o600 });
    return name;
  };
  const first = await writeVersion(files);
  await symlink(first, join(dir, '..data'));
  for (const key of Object.keys(files)) await symlink(join('..data', key), join(dir, key));
  let current = first;
  return {
    dir,
    path: (key) => join(dir, key),
    async update(next) {
      const name = await writeVersion(next);
      await symlink(name, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
      await rm(join(dir, current), { recursive: true, force: true });
      current = name;
    },
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}
