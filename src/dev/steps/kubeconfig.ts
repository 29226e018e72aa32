// Last step: the kubeconfig appears only once everything serves, so waiting for the file is waiting
// for the stack. Written to a temporary name and renamed, so a reader never sees half of it.
import { rename, writeFile } from 'node:fs/promises';
import { renderKubeconfig } from '../kubeconfig.ts';
import type { DevStep } from '../stack.ts';

export const kubeconfig: DevStep = {
  name: 'kubeconfig',
  async run(stack) {
    const projects = stack.workspaces.filter((w) => w.project);
    const userOf = (org: string | undefined) =>
      stack.need(
        stack.users.find((u) => u.org === org && 'owner' in u.access),
        `an owner of ${org}`,
      );
    // A viewer's context is named for the user and the workspace it may look at: carol@org-acme:proj-frontend.
    const viewerContexts = stack.users.flatMap((u) => ('viewer' in u.access ? [{ user: u, workspace: u.access.viewer.replace(/^root:/, '') }] : []));
    const text = renderKubeconfig({
      server: stack.url,
      caPem: stack.need(stack.ca, 'the dev CA').certPem,
      workspaces: projects.map((w) => ({ name: w.path.replace(/^root:/, ''), user: `${userOf(w.org).name}@${w.org}` })),
      users: stack.users.map((u) => ({ name: `${u.name}@${u.org}`, token: u.token })),
      contexts: viewerContexts.map(({ user, workspace }) => ({ name: `${user.name}@${workspace}`, workspace, user: `${user.name}@${user.org}` })),
    });
    const tmp = `${stack.files.kubeconfig}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, stack.files.kubeconfig);
  },
};
