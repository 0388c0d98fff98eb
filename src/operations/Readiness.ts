// GET /ready is a list of named probes (docs/operations.md "Health and readiness"): ready only when every
// probe passes. startOperations adds "upstream" (the node link is logged in) and, with books open, "ledger"
// (writable, from the bus `ledger` topic).

export interface ProbeResult {
  readonly ok: boolean;
  /** Why not ready (shown in the 503 body); optional when ok. */
  readonly reason?: string;
}

export type ReadinessProbe = () => ProbeResult;

export interface ReadinessReport {
  readonly ready: boolean;
  readonly probes: Record<string, ProbeResult>;
}

export class Readiness {
  private readonly probes = new Map<string, ReadinessProbe>();

  /** Registers a probe under a unique name (a second one with the same name is a wiring bug and throws). */
  add(name: string, probe: ReadinessProbe): void {
    if (this.probes.has(name)) throw new Error(`readiness probe "${name}" already added`);
    this.probes.set(name, probe);
  }

  check(): ReadinessReport {
    const probes: Record<string, ProbeResult> = {};
    let ready = true;
    for (const [name, probe] of this.probes) {
      let result: ProbeResult;
      try {
        result = probe();
      } catch (err) {
        result = { ok: false, reason: `probe failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      probes[name] = result;
      if (!result.ok) ready = false;
    }
    return { ready, probes };
  }
}
