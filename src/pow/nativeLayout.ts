// Ids, codes and the batch layout shared with the native addon. Importing this never loads the addon,
// so code that only names variants (fork tables, job books) works without it.
/** Variant ids as the addon knows them. Equihash variants carry (N, K, R) in the addon's table. */
export const NativeVariant = {
  /** Equihash(150,5), Beam construction, R0. */
  BeamHashI: 1,
  /** Equihash(150,5), Beam construction, R3 (indices < 2^23). */
  BeamHashII: 2,
  /** BeamHash III: SipHash-2-4 based, 448-bit work, 5 rounds of 24-bit collisions. */
  BeamHashIII: 3,
  /** Devnet only: Equihash(48,5) with the BeamHash I construction; solvable on a CPU in milliseconds. */
  Devnet: 16,
} as const;
export type NativeVariantId = (typeof NativeVariant)[keyof typeof NativeVariant];

/** Native verification outcome codes (one byte per record in the results buffer). */
export const VerifyCode = {
  Valid: 0,
  BadInputLength: 1,
  BadNonceLength: 2,
  BadOutputLength: 3,
  IndexOutOfRange: 4,
  IndexOrder: 5,
  DuplicateIndex: 6,
  CollisionFailed: 7,
  FinalNotZero: 8,
  UnknownVariant: 9,
} as const;
export type VerifyCodeValue = (typeof VerifyCode)[keyof typeof VerifyCode];

/**
 * Batch record layout (RECORD_STRIDE bytes each):
 *   [0]       variant id (u8)
 *   [1]       reserved (0)
 *   [2..4)    output length in bytes (u16 little-endian), at most MAX_OUTPUT_BYTES
 *   [4..36)   input (32 bytes)
 *   [36..44)  nonce (8 bytes, wire order)
 *   [44..148) output (zero padded)
 *   [148..152) reserved
 * Result layout (RESULT_STRIDE bytes each):
 *   [0]       VerifyCode
 *   [1..33)   SHA-256(output), for the target check done in TypeScript with exact integers
 */
export const RECORD_STRIDE = 152;
export const RESULT_STRIDE = 33;
/** Field offsets within a record and a result (the layout above); the one place they are written down in TypeScript. */
export const RECORD_VARIANT = 0;
export const RECORD_OUTPUT_LENGTH = 2;
export const RECORD_INPUT = 4;
export const RECORD_NONCE = 36;
export const RECORD_OUTPUT = 44;
export const RESULT_CODE = 0;
export const RESULT_HASH = 1;
export const INPUT_BYTES = 32;
export const NONCE_BYTES = 8;
export const MAX_OUTPUT_BYTES = 104;

/**
 * Packs one record at byte `at`, zeroing padding and reserved bytes. The declared output length is the output's
 * own (the addon rejects one over MAX_OUTPUT_BYTES); at most MAX_OUTPUT_BYTES of it are copied.
 */
export function packRecord(records: Buffer, at: number, variantId: number, input: Uint8Array, nonce: Uint8Array, output: Uint8Array): void {
  records[at + RECORD_VARIANT] = variantId;
  records[at + RECORD_VARIANT + 1] = 0;
  records.writeUInt16LE(output.length, at + RECORD_OUTPUT_LENGTH);
  records.set(input.subarray(0, INPUT_BYTES), at + RECORD_INPUT);
  records.set(nonce.subarray(0, NONCE_BYTES), at + RECORD_NONCE);
  const copied = Math.min(output.length, MAX_OUTPUT_BYTES);
  records.set(output.subarray(0, copied), at + RECORD_OUTPUT);
  records.fill(0, at + RECORD_OUTPUT + copied, at + RECORD_STRIDE);
}
