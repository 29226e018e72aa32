// The stand-in shard's programmatic API, used by tests and `kcp-edge dev`.
export { startShard, connectShards, maxConcurrentStreams, type StartShardOptions, type SimShard } from './shard.ts';
export type { PeerShard } from './shard-state.ts';
export { createApiClient, type ApiClient, type ApiResponse } from './client.ts';
export { createCertificateAuthority, issueLoopbackServer, type CertificateAuthority, type KeyPair } from './pki.ts';
export { bindExport, createExport, createWorkspace, type ExportDefinition, type WorkspaceInfo } from './workspaces-client.ts';
