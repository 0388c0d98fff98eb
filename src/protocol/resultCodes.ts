// Result codes of the Beam/Hds stratum dialect. spec: docs/gateway.md "Result codes".
export const ResultCode = {
  /** spec: Result, Example 3 — login succeeded. */
  LoginOk: 0,
  /** spec: Result, Example 2 — share (downstream) or block (upstream) accepted. */
  Accepted: 1,
  /** Node: bad PoW, cleared job, solved block, prefix mismatch. Gateway: prefix mismatch. */
  Rejected: 2,
  /** Job 64 or more jobs older than the newest (node), or dropped from the gateway's window. */
  Expired: 3,
  MalformedMessage: -32000,
  UnknownMethod: -32001,
  /** spec: Result, Example 1 — login failed. */
  LoginFailed: -32003,
  InvalidSolution: -32004,
  BadSolutionSize: -32005,
  DuplicateShare: -32006,
  BadNonce: -32007,
  StaleJob: -32008,
  LowDifficultyShare: -32009,
  Unauthorized: -32010,
} as const;
export type ResultCodeValue = (typeof ResultCode)[keyof typeof ResultCode];

export const RESULT_DESCRIPTIONS: Readonly<Record<ResultCodeValue, string>> = {
  [ResultCode.LoginOk]: 'Login successful',
  [ResultCode.Accepted]: 'accepted',
  [ResultCode.Rejected]: 'rejected',
  [ResultCode.Expired]: 'expired',
  [ResultCode.MalformedMessage]: 'Malformed message',
  [ResultCode.UnknownMethod]: 'Unknown method',
  [ResultCode.LoginFailed]: 'Login failed',
  [ResultCode.InvalidSolution]: 'Invalid solution',
  [ResultCode.BadSolutionSize]: 'Bad solution size',
  [ResultCode.DuplicateShare]: 'Duplicate share',
  [ResultCode.BadNonce]: 'Bad nonce',
  [ResultCode.StaleJob]: 'Stale job',
  [ResultCode.LowDifficultyShare]: 'Low difficulty share',
  [ResultCode.Unauthorized]: 'Unauthorized',
};
