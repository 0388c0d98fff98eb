// Bans go into the books with their reasons (docs/ledger.md "Bans"): who banned (the abuse guard or an operator),
// what, why, until when, and when an operator lifted it. A BanRecorder is told; a recorded BanList tells it.
// Recording never stands in the way of a ban: a recorder that throws is ignored (the ban is in force regardless).
import { banKeyOf, type Ban, type BanList } from './BanList.js';

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
