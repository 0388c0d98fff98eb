// Strict hex decoding: Buffer.from(text, 'hex') silently stops at the first bad digit and drops an odd
// trailing nibble, which would turn malformed requests into plausible-looking bytes.
const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

/** Bytes of an even-length hex string (either case), or null if it has an odd length or a non-hex digit. */
export function parseHex(text: string): Buffer | null {
  return HEX_TEXT.test(text) ? Buffer.from(text, 'hex') : null;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
