// Typed failures of the miner-facing listeners (configuration and start-up; per-connection trouble is a CloseReason).

export type TransportErrorCode = 'TLS_CERT_LOAD' | 'LISTEN_FAILED' | 'NOT_LISTENING' | 'FD_LIMIT';

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}
