// `login {api_key}` → `result` 0 with nonceprefix (and fork heights when known), or -32003 and close.
// spec: docs/node-protocol.md "Messages", docs/gateway.md "Nonce prefix layout"; beam-mining-protocol.txt "Login", Result examples 1 and 3.
import { createHash } from 'node:crypto';
import type { Session } from '../Session.js';
import { NoncePrefixError } from '../NoncePrefixAllocator.js';
import type { LoginMessage } from '../../protocol/messages.js';
import { ResultCode } from '../../protocol/resultCodes.js';
import type { ApiKeyChecker } from '../ApiKeys.js';
import type { LoginContext } from './context.js';

const MAX_LABEL = 64;
const UNSAFE_LABEL_CHARS = /[^A-Za-z0-9._:@+-]/g;

/** Keeps printable, log- and URL-safe characters, at most 64. */
export function sanitizeLabel(text: string): string {
  return text.replace(UNSAFE_LABEL_CHARS, '').slice(0, MAX_LABEL);
}

/**
 * The name shares and blocks are credited to. With a keys file the key is a secret, so the label is a short
 * digest of it (stable, not reversible); in open access the key is whatever the miner chose (often a wallet).
 */
export function minerLabel(apiKey: string, openAccess: boolean): string {
  if (!openAccess) return `key-${createHash('sha256').update(apiKey, 'utf8').digest('hex').slice(0, 12)}`;
  const label = sanitizeLabel(apiKey);
  return label === '' ? 'anonymous' : label;
}

export interface LoginIdentity {
  /** The part that authenticates (keys file) or names the miner (open access). */
  readonly key: string;
  /** The rig's name, sanitised ('' when none). */
  readonly worker: string;
}

/**
 * `api_key` as GPU miners send `--user KEY.WORKER` (docs/gateway.md "Workers"): the whole string when it is a
 * key on its own (keys may hold dots), else split at the first dot. Two digests at most, whatever the input.
 */
export function splitLogin(apiKey: string, apiKeys: ApiKeyChecker): LoginIdentity | undefined {
  const dot = apiKey.indexOf('.');
  if (apiKeys.openAccess) return dot === -1 ? { key: apiKey, worker: '' } : { key: apiKey.slice(0, dot), worker: sanitizeLabel(apiKey.slice(dot + 1)) };
  if (apiKeys.isAllowed(apiKey)) return { key: apiKey, worker: '' };
  if (dot > 0 && apiKeys.isAllowed(apiKey.slice(0, dot))) return { key: apiKey.slice(0, dot), worker: sanitizeLabel(apiKey.slice(dot + 1)) };
  return undefined;
}

export function handleLogin(session: Session, message: LoginMessage, ctx: LoginContext): void {
  const identity = splitLogin(message.api_key, ctx.apiKeys);
  if (identity === undefined) {
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
    lease = session.profile.prefixes.allocate();
  } catch (err) {
    if (!(err instanceof NoncePrefixError)) throw err;
    ctx.logger.warn({ sessionId: session.id, profile: session.profile.name, capacity: session.profile.prefixes.capacity }, 'login refused: nonce prefixes exhausted');
    session.reply(message.id, ResultCode.LoginFailed, { description: 'No nonce prefix available' });
    session.close('prefixes-exhausted');
    return;
  }
  session.markLoggedIn(lease, minerLabel(identity.key, ctx.apiKeys.openAccess), identity.worker);
  // An empty prefix is left out: the miner may use the full nonce range (spec: Result, note on "nonceprefix").
  session.reply(message.id, ResultCode.LoginOk, { nonceprefix: lease.prefix || undefined, ...ctx.loginReplyExtras() });
  ctx.sessionLoggedIn(session);
}
