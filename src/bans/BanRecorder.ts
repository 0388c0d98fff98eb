// Bans go into the books with their reasons (docs/ledger.md "Bans"): who banned (the abuse guard or an operator),
// what, why, until when, and when an operator lifted it. A BanRecorder is told; a recorded BanList tells it.
// Recording never stands in the way of a ban: a recorder that throws is ignored (the ban is in force regardless).
// At start the bans still in force come back out of the books (BanHistory, restoreBans), unrecorded: restoring
// is not a new ban.
import type { Logger } from '../config/logger.js';
import { banKeyOf, type Ban, type BanList, type MemoryBanList } from './BanList.js';

/** Who put a ban in force: the abuse guard (too many invalid shares) or an operator (admin API). */
export type BanSource = 'abuse' | 'operator';

export interface BanRecorder {
  /** A ban was put in force. */
  banned(ban: Ban, source: BanSource): void;
  /** The ban under `key` was lifted by an operator at `at` (expiry is not recorded: `until` says it). */
  lifted(key: string, source: BanSource, at: number): void;
}

/** `inner` with every ban and lift told to `recorder` as coming from `source`. */
export function recordedBanList(inner: BanList, recorder: BanRecorder, source: BanSource, now: () => number = Date.now): BanList {
  const tell = (what: () => void): void => {
    try {
      what();
    } catch {
      // The ban is in force; the books are best effort here (the ledger logs its own failures).
    }
  };
  return {
    list: () => inner.list(),
    isBanned: (ip) => inner.isBanned(ip),
    ban(ip, reason, seconds) {
      const ban = inner.ban(ip, reason, seconds);
      tell(() => recorder.banned(ban, source));
      return ban;
    },
    unban(ipOrKey) {
      const removed = inner.unban(ipOrKey);
      if (removed) tell(() => recorder.lifted(banKeyOf(ipOrKey), source, now()));
      return removed;
    },
  };
}

/** The books' side the gateway restores from at start (docs/ledger.md "Bans"). */
export interface BanHistory {
  /** This gateway's bans still in force, at most `limit`, the longest-lasting first. */
  bansInForce(limit: number): Promise<Ban[]>;
}

/**
 * Restores the bans in force from `history` into `list` (its bound applies) and logs how many; answers that count.
 * Reading them failing is logged and answered 0: bans are a defence, and books slow or down must not keep the
 * gateway from mining (docs/operations.md "Bans").
 */
export async function restoreBans(list: MemoryBanList, history: BanHistory, limit: number, logger: Logger): Promise<number> {
  let inForce: Ban[];
  try {
    inForce = await history.bansInForce(limit);
  } catch (err) {
    logger.error({ err }, 'bans in force could not be read from the books: starting without them');
    return 0;
  }
  let restored = 0;
  for (const ban of inForce) if (list.restore(ban)) restored += 1;
  logger.info({ restored, read: inForce.length }, 'bans in force restored from the books');
  return restored;
}
