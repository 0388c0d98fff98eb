// beam-mining-protocol.txt "Login" (nonceprefix): the node checks a solution's nonce against its prefix
// case-sensitively, while miners and the gateway work in lowercase hex. The digits of the node's prefix go
// back exactly as the node wrote them.

/** `nonce` with its first digits in the node's own case when they are the node's prefix; else unchanged. */
export function nonceForNode(nodePrefix: string, nonce: string): string {
  if (nodePrefix === '' || nonce.slice(0, nodePrefix.length).toLowerCase() !== nodePrefix.toLowerCase()) return nonce;
  return nodePrefix + nonce.slice(nodePrefix.length);
}
