// Typed errors of the PoW layer: callers branch on `code`, never on message text.

export type PowErrorCode =
  /** A constructor option out of range (a programming error). */
  | 'bad-option'
  /** VerifierPool: more solutions waiting than `maxQueued`; the caller should shed load. */
  | 'queue-full'
  /** VerifierPool: verify() after close(). */
  | 'closed'
  /** The addon reported a failure for a whole batch (err passed to verifyBatch's callback). */
  | 'native-failed'
  /** The addon answered outside its contract (src/pow/native.ts), e.g. an unknown VerifyCode. */
  | 'native-contract'
  /** Nano/Banano work: a malformed work, root, threshold, difficulty or multiplier argument. */
  | 'bad-work'
  | 'bad-root'
  | 'bad-threshold'
  | 'bad-difficulty'
  | 'bad-multiplier';

export class PowError extends Error {
  readonly code: PowErrorCode;

  constructor(code: PowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PowError';
    this.code = code;
  }
}

export function isPowError(value: unknown): value is PowError {
  return value instanceof PowError;
}
