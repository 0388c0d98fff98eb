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
export const INPUT_BYTES = 32;
export const NONCE_BYTES = 8;
export const MAX_OUTPUT_BYTES = 104;
