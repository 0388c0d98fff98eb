// `login {api_key}` → `result` 0 with nonceprefix (and fork heights when known), or -32003 and close.
// spec: docs/node-protocol.md "Messages", docs/gateway.md "Nonce prefix layout"; beam-mining-protocol.txt "Login", Result examples 1 and 3.
import { createHash } from 'node:crypto';
import type { Session } from '../Session.js';
import { NoncePrefixError } from '../NoncePrefixAllocator.js';
import type { LoginMessage } from '../../protocol/messages.js';
import { ResultCode } from '../../protocol/resultCodes.js';
import type { LoginContext } from './context.js';

const MAX_WORKER_LABEL = 64;
const UNSAFE_LABEL_CHARS = /[^A-Za-z0-9._:@+-]/g;

/**
 * The name shares and blocks are credited to. With a keys file the key is a secret, so the label is a short
 * digest of it (stable, not reversible); in open access the api_key is whatever the miner chose (often wallet.worker).
 */
export function workerLabel(apiKey: string, openAccess: boolean): string {
  if (!openAccess) return `key-${createHash('sha256').update(apiKey, 'utf8').digest('hex').slice(0, 12)}`;
  const label = apiKey.replace(UNSAFE_LABEL_CHARS, '').slice(0, MAX_WORKER_LABEL);
  return label === '' ? 'anonymous' : label;
}

export function handleLogin(session: Session, message: LoginMessage, ctx: LoginContext): void {
  if (!ctx.apiKeys.isAllowed(message.api_key)) {
    // The node answers -32003 and closes (docs/node-protocol.md); so do we.
    ctx.logger.info({ sessionId: session.id, remote: session.connection.remote }, 'login failed: unknown api key');
    session.reply(message.id, ResultCode.LoginFailed);
    session.close('login-failed');
    return;
  }
  if (session.state === 'logged-in') {
    // A repeated login keeps the session's prefix and job feed.
    session.reply(message.id, ResultCode.LoginOk, { nonceprefix: session.noncePrefix || undefined, ...ctx.loginReplyExtras() });
    return;
  }
  let lease;
  try {
    lease = ctx.prefixes.allocate();
  } catch (err) {
    if (!(err instanceof NoncePrefixError)) throw err;
    ctx.logger.warn({ sessionId: session.id, capacity: ctx.prefixes.capacity }, 'login refused: nonce prefixes exhausted');
    session.reply(message.id, ResultCode.LoginFailed, { description: 'No nonce prefix available' });
    session.close('prefixes-exhausted');
    return;
  }
  session.markLoggedIn(lease, workerLabel(message.api_key, ctx.apiKeys.openAccess));
  // An empty prefix is left out: the miner may use the full nonce range (spec: Result, note on "nonceprefix").
  session.reply(message.id, ResultCode.LoginOk, { nonceprefix: lease.prefix || undefined, ...ctx.loginReplyExtras() });
  ctx.sessionLoggedIn(session);
}
