import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh challenge: 32 random bytes, hex. A node never accepts an answer to another connection's nonce. */
export function newNonce(): string {
	return randomBytes(32).toString('hex');
}

/** HMAC-SHA256 over the parts joined with '|': each side signs the other's nonce with the shared secret. */
export function mac(secret: string, ...parts: string[]): string {
	return createHmac('sha256', secret).update(parts.join('|')).digest('hex');
}

/** Constant-time comparison, so a wrong answer tells nothing about the right one. */
export function macMatches(expected: string, given: unknown): boolean {
	if (typeof given !== 'string' || given.length !== expected.length || !/^[0-9a-f]+$/.test(given)) return false;
	return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}

export const controllerProof = (secret: string, nodeNonce: string, controllerNonce: string, controllerId: string): string =>
	mac(secret, 'controller', nodeNonce, controllerNonce, controllerId);

export const nodeProof = (secret: string, controllerNonce: string, nodeNonce: string, nodeId: string): string =>
	mac(secret, 'node', controllerNonce, nodeNonce, nodeId);
