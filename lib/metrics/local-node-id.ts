import * as os from 'node:os';

/**
 * The `node` label of this process's metrics. One machine is one node until
 * mafalda runs as a cluster, whose nodes will name themselves.
 */
export function localNodeId(): string {
	return os.hostname() || 'local';
}
