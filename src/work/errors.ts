// Typed errors of the work service (docs/work-service.md "HTTP RPC"). `message` is the text a service sees.
export type WorkErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_HASH'
  | 'BAD_DIFFICULTY'
  | 'DIFFICULTY_TOO_LOW'
  | 'BAD_TIMEOUT'
  | 'INVALID_CREDENTIALS'
  | 'RATE_LIMITED'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'OVERLOADED'
  | 'UNKNOWN_ACTION'
  | 'NOT_ALLOWED'
  | 'STOPPED'
  | 'BROKER_FAILED';

export class WorkError extends Error {
  constructor(
    readonly code: WorkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkError';
  }
}
