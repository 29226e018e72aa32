// kcp-edge itself, with the full pipeline on. Available once the gateway has landed.
import { access } from 'node:fs/promises';
import type { Target } from './types.ts';

const gatewayEntry = new URL('../../src/gateway/', import.meta.url).pathname;

export const kcpEdge: Target & { available(): Promise<boolean>; unavailableReason(): string } = {
  name: 'kcp-edge',
  async available() {
    try {
      await access(gatewayEntry);
      return false;
    } catch {
      return false;
    }
  },
  unavailableReason: () => 'the gateway has not landed yet; measuring the peers only',
  describe: async () => 'kcp-edge',
  start: async () => {
    throw new Error('kcp-edge target not available');
  },
};
