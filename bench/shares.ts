// Verified shares per second end to end (target ≥ 5,000/s): real devnet solutions, solved beforehand in a client
// process, sent over many sessions to SimNode ← NodeLink ← Gateway in this process; every one goes through the
// whole solution path (parse, job lookup, duplicate check, native verification on the VerifierPool, reply).
// Share difficulty 1 (every valid solution is a share); the node's block difficulty is 2^40, so no share is a
// block and the node is not part of the loop. Clients and gateway share the machine's cores. All sessions come from
// 127.0.0.1, standing for miners on many addresses, so the per-address pending bound is raised to what they keep in
// flight (docs/hostile-peers.md "Share path").
// Knobs (environment): BENCH_SESSIONS (200), BENCH_INFLIGHT (32 per session), BENCH_POOL (400 solutions per
// session), BENCH_WINDOW_MS (2000), BENCH_SOLVER_THREADS (2), BENCH_LEDGER_URL (none: books off).
import { bounded, Client, envInt, fmt, startStack, wallClockMs } from './harness.js';

function measuredMsOf(r: { poolExhaustedAtMs?: number; lastResultMs: number; windowMs: number }): number {
  return r.poolExhaustedAtMs === undefined ? r.windowMs : r.lastResultMs;
}

export interface SharesResult {
  readonly text: string;
  /** Accepted shares per second over the measured window. */
  readonly rate: number;
}

export async function run(): Promise<string> {
  return (await measureShares(process.env.BENCH_LEDGER_URL ?? 'none')).text;
}

/** The benchmark with the gateway's books at `ledgerUrl` ('none' = off); bench/ledger runs it both ways. */
export async function measureShares(ledgerUrl: string): Promise<SharesResult> {
  const sessions = envInt('BENCH_SESSIONS', 200);
  const inflight = envInt('BENCH_INFLIGHT', 32);
  const perSession = envInt('BENCH_POOL', 400);
  const windowMs = envInt('BENCH_WINDOW_MS', 2000);
  const solverThreads = envInt('BENCH_SOLVER_THREADS', 2);
  let rateOut = 0;
  const text = await bounded('shares', 300_000, async (cleanup) => {
    const { node, gateway, stratumPort } = await startStack(
      { difficulty: 2 ** 40 },
      {
        shareDifficulty: 1,
        maxConnections: sessions + 100,
        maxConnectionsPerIp: sessions + 100,
        maxPendingSolutionsPerIp: Math.max(1024, sessions * inflight),
        maxPendingSolutionsTotal: Math.max(16_384, sessions * inflight),
        // The 200 sessions stand for many miners but come from one address at full speed: abuse control's
        // per-session rate cap (and the ban it leads to) would measure itself, not verification.
        bans: { enabled: false, maxSolutionsPerSecond: 0 },
      },
      cleanup,
      ledgerUrl,
    );
    let accepted = 0;
    const onShare = (share: { code: number }): void => {
      if (share.code === 1) accepted++;
    };
    const unsubscribe = gateway.bus.subscribe('share', 'bench-counter', onShare);
    cleanup.defer(unsubscribe);

    const client = Client.start('shares', cleanup);
    const ready = client.next((m) => (m.type === 'ready' ? m : undefined), 60_000, 'logins');
    const solved = client.next((m) => (m.type === 'solved' ? m : undefined), 240_000, 'solutions');
    client.send({ type: 'start-shares', port: stratumPort, sessions, solutionsPerSession: perSession, inflight, solverThreads });
    const login = await ready;
    if (login.failed > 0) throw new Error(`${login.failed} sessions failed to log in`);
    const pool = await solved;

    // The books' side of the run: how the group commit formed its transactions.
    const commits = { count: 0, shares: 0, seconds: 0 };
    const stopCommits = gateway.ledger?.onCommit((seconds, shares) => {
      commits.count++;
      commits.shares += shares;
      commits.seconds += seconds;
    });
    if (stopCommits !== undefined) cleanup.defer(stopCommits);
    const report = client.next((m) => (m.type === 'shares' ? m : undefined), windowMs + 30_000, 'the share report');
    const acceptedBefore = accepted;
    const cpuBefore = process.cpuUsage();
    const t0 = wallClockMs();
    client.send({ type: 'go', windowMs });
    const r = await report;
    const cpu = process.cpuUsage(cpuBefore);
    const elapsed = Math.min(wallClockMs() - t0, measuredMsOf(r));
    // If the pool ran out early, the rate is over the time until the last answer, not the whole window.
    const measuredMs = measuredMsOf(r);
    const inWindowAccepted = r.inWindow['1'] ?? 0;
    const rate = (inWindowAccepted * 1000) / measuredMs;
    const rejects = Object.entries(r.total).filter(([code]) => code !== '1');
    const stats = node.stats();
    rateOut = rate;
    return [
      `Shares: ${fmt(sessions)} TCP sessions × ${inflight} solutions in flight, ${fmt(pool.solutions)} real devnet (48,5) ` +
        `solutions solved beforehand in ${fmt(pool.ms / 1000, 1)} s (${solverThreads} solver threads, client process); ` +
        `share difficulty 1, node block difficulty 2^40 (node ${process.version}).`,
      '',
      '| figure | value |',
      '|---|---:|',
      `| accepted shares/s (client-counted \`1 accepted\` results, ${fmt(measuredMs)} ms window${r.poolExhaustedAtMs === undefined ? '' : ', pool ran out'}) | ${fmt(rate)} |`,
      `| accepted per whole second of the window | ${r.perSecond.map((n) => fmt(n)).join(' / ')} |`,
      `| results by code after the drain | ${Object.entries(r.total).map(([code, n]) => `${code}: ${fmt(n)}`).join(', ')} |`,
      `| rejected (any code but 1) | ${fmt(rejects.reduce((n, [, c]) => n + c, 0))} |`,
      `| solutions sent / unanswered after ${fmt(15)} s drain | ${fmt(r.sent)} / ${fmt(r.unanswered)} |`,
      `| gateway 'share' events with code 1 (same run) | ${fmt(accepted - acceptedBefore)} |`,
      `| gateway process CPU (user+sys) per wall second | ${fmt((cpu.user + cpu.system) / 1000 / elapsed, 2)} cores |`,
      `| blocks the node saw | ${stats.blocks.length} |`,
      `| ledger | ${ledgerUrl === 'none' ? 'off (none)' : ledgerUrl.replace(/\/\/[^@]*@/, '//')} |`,
      ...(commits.count === 0
        ? []
        : [`| ledger transactions (window and drain): count / mean shares each / mean ms each | ${fmt(commits.count)} / ${fmt(commits.shares / commits.count, 1)} / ${fmt((1000 * commits.seconds) / commits.count, 2)} |`]),
    ].join('\n');
  });
  return { text, rate: rateOut };
}
