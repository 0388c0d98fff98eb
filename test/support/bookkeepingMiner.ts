// A devnet miner that remembers what it was told about every solution: one solution in flight per connection, so
// each `result` belongs to exactly one (nonce, output). The crash and outage tests compare its memory with the
// ledger: every share it was told `1 accepted` must be in the books exactly once.
import { createHash } from 'node:crypto';
import { NativeVariant } from '../../src/pow/nativeLayout.js';
import { SolverPool } from '../../src/sim/refminer/SolverPool.js';
import { StratumClient, type Json } from './net.js';

/** nonce:sha256(output) — how a share is named in the ledger (with the node's job id). */
export function shareKey(nonce: string, output: string): string {
  return `${nonce.toLowerCase()}:${createHash('sha256').update(Buffer.from(output, 'hex')).digest('hex')}`;
}

export class BookkeepingMiners {
  /** Shares answered `1 accepted`. */
  readonly accepted = new Set<string>();
  /** Shares sent whose answer never came (connection gone). */
  readonly unanswered = new Set<string>();
  /** Every answer by code. */
  readonly codes = new Map<number, number>();
  private readonly clients: StratumClient[] = [];
  private readonly solver = new SolverPool(1);
  private running = true;
  private readonly loops: Array<Promise<void>> = [];

  private constructor() {}

  static async start(port: number, key: string, connections: number): Promise<BookkeepingMiners> {
    const m = new BookkeepingMiners();
    for (let i = 0; i < connections; i++) {
      const client = await StratumClient.connect(port, { timeoutMs: 30_000 });
      m.clients.push(client);
      const login = await client.login(key);
      if (login.code !== 0) throw new Error(`login refused: ${JSON.stringify(login)}`);
      m.loops.push(m.mine(client, String(login.nonceprefix ?? ''), i));
    }
    return m;
  }

  private async mine(client: StratumClient, loginPrefix: string, index: number): Promise<void> {
    let counter = BigInt(index) << 40n;
    while (this.running && !client.closed) {
      let job: Json;
      try {
        job = latestJob(client) ?? (await client.nextJob());
      } catch {
        return;
      }
      const prefix = String(job.nonceprefix ?? loginPrefix);
      counter += 1n;
      const nonce = prefix + counter.toString(16).padStart(16 - prefix.length, '0').slice(-(16 - prefix.length));
      let found;
      try {
        found = await this.solver.solve(NativeVariant.Devnet, String(job.input), nonce);
      } catch {
        return;
      }
      for (const sol of found) {
        if (!this.running || client.closed) return;
        const key = shareKey(nonce, sol.output);
        let answer: Json;
        try {
          answer = await client.solution(String(job.id), nonce, sol.output);
        } catch {
          this.unanswered.add(key);
          return;
        }
        const code = Number(answer.code);
        this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
        if (code === 1) this.accepted.add(key);
      }
    }
  }

  /** Stops submitting; in-flight answers are still awaited (bounded by the client timeout). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    for (const c of this.clients) c.destroy();
    await this.solver.close();
  }
}

function latestJob(client: StratumClient): Json | undefined {
  const jobs = client.byMethod('job');
  return jobs[jobs.length - 1];
}
