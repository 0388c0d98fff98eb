// Nano/Banano account addresses (docs/work-service.md "Payout addresses"): prefix `ban_` or `nano_`, then 60
// characters of the Nano base-32 alphabet: 52 encode the 256-bit public key (after 4 zero bits), 8 encode the
// 40-bit checksum, BLAKE2b-40 of the public key with its bytes reversed.
import { native } from '../pow/native.js';

const ALPHABET = '13456789abcdefghijkmnopqrstuwxyz';
const VALUE_OF = new Map([...ALPHABET].map((ch, i) => [ch, i]));
export const ACCOUNT_PREFIXES = ['ban_', 'nano_'] as const;
export type AccountPrefix = (typeof ACCOUNT_PREFIXES)[number];

export type AccountCheck =
  | { readonly ok: true; readonly publicKey: Buffer; readonly prefix: AccountPrefix }
  | { readonly ok: false; readonly reason: 'bad-prefix' | 'bad-length' | 'bad-character' | 'bad-checksum' };

/** Bits of a base-32 string as a bigint (5 per character), or undefined if a character is not in the alphabet. */
function decodeBase32(text: string): bigint | undefined {
  let value = 0n;
  for (const ch of text) {
    const digit = VALUE_OF.get(ch);
    if (digit === undefined) return undefined;
    value = (value << 5n) | BigInt(digit);
  }
  return value;
}

function encodeBase32(value: bigint, chars: number): string {
  let out = '';
  for (let i = chars - 1; i >= 0; i--) out += ALPHABET[Number((value >> BigInt(5 * i)) & 31n)];
  return out;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

function checksum(publicKey: Uint8Array): bigint {
  return bytesToBigInt(Buffer.from(native.blake2b(publicKey, 5)).reverse());
}

export function checkAccount(address: string): AccountCheck {
  const prefix = ACCOUNT_PREFIXES.find((p) => address.startsWith(p));
  if (prefix === undefined) return { ok: false, reason: 'bad-prefix' };
  const body = address.slice(prefix.length);
  if (body.length !== 60) return { ok: false, reason: 'bad-length' };
  const keyBits = decodeBase32(body.slice(0, 52));
  const sumBits = decodeBase32(body.slice(52));
  // 52 characters carry 260 bits: the top 4 must be zero (so the first character is 1 or 3).
  if (keyBits === undefined || sumBits === undefined || keyBits >> 256n !== 0n) return { ok: false, reason: 'bad-character' };
  const publicKey = Buffer.from(keyBits.toString(16).padStart(64, '0'), 'hex');
  if (checksum(publicKey) !== sumBits) return { ok: false, reason: 'bad-checksum' };
  return { ok: true, publicKey, prefix };
}

/** The address of a 32-byte public key. */
export function encodeAccount(publicKey: Uint8Array, prefix: AccountPrefix = 'ban_'): string {
  if (publicKey.length !== 32) throw new RangeError('public key must be 32 bytes');
  return `${prefix}${encodeBase32(bytesToBigInt(publicKey), 52)}${encodeBase32(checksum(publicKey), 8)}`;
}
