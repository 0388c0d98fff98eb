// Prometheus metrics for GET /metrics (docs/operations.md "Metrics"). One Registry per gateway (not the global
// one), so several gateways in one process (tests) never share counters. Counters follow bus events; gauges
// that mirror live state read it at scrape time through narrow callbacks.
import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../events/EventBus.js';
import type { NativeVerdict, SolutionInput, SolutionVerifier } from '../pow/types.js';
import type { TransportKind } from '../transports/types.js';

/** Live state read at scrape time. */
export interface MetricsSources {
  /** Logged-in sessions by transport. */
  readonly sessionsByTransport: () => Record<TransportKind, number>;
  /** Bound port of each transport (label of the sessions gauge). */
  readonly ports: Partial<Record<TransportKind, number>>;
  /** The node link is logged in. */
  readonly upstreamUp: () => boolean;
  /** Event API clients, and those dropped so far by reason (undefined when the event API is off). */
  readonly eventApi?: () => { clients: number; dropped: Record<string, number> };
}

/** The books as the metrics see them (src/ledger/Ledger.ts implements it). */
export interface LedgerMetricsSource {
  /** Shares waiting to be written (not counting a transaction in flight). */
  readonly buffered: number;
  /** Observes every commit: its duration and the shares it recorded; returns the function that stops observing. */
  onCommit(listener: (seconds: number, shares: number) => void): () => void;
}

const ACCEPTED = 1;

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly shares: Counter<'outcome' | 'code'>;
  private readonly verification: Histogram;
  private readonly fanOut: Histogram;
  private readonly upstreamTransitions: Counter<'state'>;
  private readonly blocks: Counter<'status'>;
  private readonly subscriberFailures: Counter<'subscriber'>;
  private sources: MetricsSources | undefined;

  constructor() {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'equigate_', eventLoopMonitoringPrecision: 10 });
    this.shares = new Counter({ name: 'equigate_shares_total', help: 'Shares answered, by outcome and result code (docs/gateway.md).', labelNames: ['outcome', 'code'], registers });
    this.verification = new Histogram({
      name: 'equigate_verification_seconds',
      help: 'Time from handing a solution to the verifier pool to its verdict (queueing included).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.fanOut = new Histogram({
      name: 'equigate_job_fanout_seconds',
      help: 'Time from a job being published to its lines being queued to every logged-in session (ms resolution).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.upstreamTransitions = new Counter({ name: 'equigate_upstream_transitions_total', help: 'Node link state changes (logged-in counts logins, reconnects included).', labelNames: ['state'], registers });
    this.blocks = new Counter({ name: 'equigate_blocks_total', help: 'Block candidates and the node verdicts on them, by status.', labelNames: ['status'], registers });
    this.subscriberFailures = new Counter({ name: 'equigate_bus_subscriber_failures_total', help: 'Event bus subscriber failures (throws and rejections), by subscriber name.', labelNames: ['subscriber'], registers });
    const self = this;
    new Gauge({
      name: 'equigate_sessions',
      help: 'Logged-in miner sessions by transport and port.',
      labelNames: ['transport', 'port'],
      registers,
      collect() {
        this.reset();
        const sources = self.sources;
        if (sources === undefined) return;
        for (const [transport, count] of Object.entries(sources.sessionsByTransport())) {
          const port = sources.ports[transport as TransportKind];
          if (port !== undefined) this.set({ transport, port: String(port) }, count);
        }
      },
    });
    new Gauge({
      name: 'equigate_upstream_up',
      help: '1 when the node link is logged in, else 0.',
      registers,
      collect() {
        this.set(self.sources?.upstreamUp() === true ? 1 : 0);
      },
    });
    new Gauge({
      name: 'equigate_event_api_clients',
      help: 'Connected event API clients.',
      registers,
      collect() {
        this.set(self.sources?.eventApi?.().clients ?? 0);
      },
    });
    new Gauge({
      name: 'equigate_event_api_dropped_clients',
      help: 'Event API clients dropped since start, by reason (slow-consumer, idle, frame-too-large).',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self.sources?.eventApi?.().dropped ?? {})) this.set({ reason }, n);
      },
    });
  }

  /** Counts what the bus announces; call once, before anything is emitted. Returns the unsubscribe function. */
  attach(bus: EventBus, sources: MetricsSources): () => void {
    this.sources = sources;
    for (const [subscriber, n] of bus.failures()) this.subscriberFailures.inc({ subscriber }, n);
    bus.onFailure((subscriber) => this.subscriberFailures.inc({ subscriber }));
    const offs = [
      bus.subscribe('share', 'metrics', (share) => {
        this.shares.inc({ outcome: share.code === ACCEPTED ? 'accepted' : 'rejected', code: String(share.code) });
      }),
      bus.subscribe('job', 'metrics', (job) => this.fanOut.observe(Math.max(0, Date.now() - job.at) / 1000)),
      bus.subscribe('upstream', 'metrics', (event) => this.upstreamTransitions.inc({ state: event.state })),
      bus.subscribe('block', 'metrics', (block) => this.blocks.inc({ status: block.status })),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /**
   * The books' metrics (docs/operations.md "Metrics"): queue depth, commit latency, availability (from the bus
   * `ledger` topic; the books are available when opened). Registered only when a ledger is open. Call once.
   */
  attachLedger(bus: EventBus, ledger: LedgerMetricsSource): () => void {
    const registers = [this.registry];
    let up = 1;
    new Gauge({
      name: 'equigate_ledger_queue_depth',
      help: 'Shares waiting to be written to the ledger (a transaction in flight not counted).',
      registers,
      collect() {
        this.set(ledger.buffered);
      },
    });
    new Gauge({
      name: 'equigate_ledger_up',
      help: '1 while the ledger is writable, 0 while writes fail (shares are then answered as not credited).',
      registers,
      collect() {
        this.set(up);
      },
    });
    const commits = new Histogram({
      name: 'equigate_ledger_commit_seconds',
      help: 'Ledger transaction time (one group commit: shares, reject counts, block events), write to commit.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    const committedShares = new Counter({ name: 'equigate_ledger_committed_shares_total', help: 'Shares committed to the ledger by this gateway.', registers });
    const offs = [
      bus.subscribe('ledger', 'metrics-ledger', (e) => (up = e.state === 'available' ? 1 : 0)),
      ledger.onCommit((seconds, shares) => {
        commits.observe(seconds);
        committedShares.inc(shares);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Wraps the verifier so each verification is timed. */
  timeVerifier(inner: SolutionVerifier): SolutionVerifier {
    const histogram = this.verification;
    return {
      verify(solution: SolutionInput): Promise<NativeVerdict> {
        const stop = histogram.startTimer();
        return inner.verify(solution).finally(stop);
      },
      close: () => inner.close(),
    };
  }

  /** The text exposition for GET /metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
