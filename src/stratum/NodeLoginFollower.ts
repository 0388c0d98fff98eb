// Follows the gateway's own login to the node: the node's nonce prefix re-derives every session prefix
// (docs/gateway.md "Nonce prefixes"; sessions whose prefix no longer fits are closed 'prefix-revoked'), and
// its fork heights go into miners' login replies.
import type { Logger } from '../config/logger.js';
import { forkHeights, type ChainName } from '../pow/variants.js';
import type { Upstream, UpstreamLogin } from '../upstream/types.js';
import type { LoginReplyExtras } from './handlers/context.js';
import type { NoncePrefixSpace } from './NoncePrefixSpace.js';
import type { Session } from './Session.js';

export class NodeLoginFollower {
  private login: UpstreamLogin | undefined;
  private readonly onLogin = (login: UpstreamLogin): void => this.loggedIn(login);

  constructor(
    private readonly upstream: Pick<Upstream, 'on' | 'off'>,
    private readonly prefixes: Pick<NoncePrefixSpace, 'setUpstreamPrefix' | 'describe'>,
    private readonly sessions: ReadonlySet<Session>,
    private readonly chain: ChainName,
    private readonly log: Logger,
  ) {
    upstream.on('login', this.onLogin);
  }

  /** The node's fork heights when it sent them, else the chain's table. */
  loginReplyExtras(): LoginReplyExtras {
    const table = forkHeights(this.chain);
    const forkheight = this.login?.forkHeight ?? (Number.isFinite(table.fork1) ? table.fork1 : undefined);
    const forkheight2 = this.login?.forkHeight2 ?? (Number.isFinite(table.fork2) ? table.fork2 : undefined);
    return { forkheight, forkheight2 };
  }

  stop(): void {
    this.upstream.off('login', this.onLogin);
  }

  private loggedIn(login: UpstreamLogin): void {
    this.login = login;
    let revoked;
    try {
      revoked = this.prefixes.setUpstreamPrefix(login.noncePrefix);
    } catch (err) {
      this.log.error({ err, noncePrefix: login.noncePrefix }, 'unusable upstream nonce prefix; keeping the previous one');
      return;
    }
    this.log.info(
      { upstreamPrefix: login.noncePrefix, profiles: this.prefixes.describe(), revoked: revoked.length },
      'upstream login: session nonce prefixes re-derived',
    );
    if (revoked.length === 0) return;
    const revokedSet = new Set(revoked);
    for (const session of [...this.sessions]) {
      if (session.lease !== undefined && revokedSet.has(session.lease)) session.close('prefix-revoked');
    }
  }
}
