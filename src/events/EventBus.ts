// The one in-process event bus (docs/architecture.md "Event bus"): every outcome is announced once here and
// every consumer (ledger, metrics, event API, work bridge, demo printer) subscribes under a name.
//
// Contract:
// - Delivery is in process, synchronous, ordered per topic (an event emitted from inside a subscriber is queued
//   and delivered after the current one, so every subscriber sees a topic's events in emit order), at most once.
// - Subscribers are isolated: a synchronous throw or a rejected promise is caught, counted against the
//   subscriber's name and logged once per subscriber (the first failure, with the error); it never reaches
//   another subscriber, the emitting code or the process.
// - The bus never awaits a subscriber. A consumer that needs back-pressure (the ledger) owns a bounded queue.
import type { Logger } from '../config/logger.js';
import { silentLogger } from '../config/logger.js';
import type { GatewayEvents } from './topics.js';

export type { BlockEvent, GatewayEvents, JobEvent, SessionEvent, ShareEvent, UpstreamEvent } from './topics.js';

/** A subscriber may return a promise; its rejection is caught like a throw. Any other return value is ignored. */
export type Subscriber<T> = (event: T) => unknown;

interface Subscription {
  readonly name: string;
  readonly handler: Subscriber<never>;
}

interface Queued {
  readonly topic: string;
  readonly event: unknown;
}

export interface EventBusOptions {
  readonly logger?: Logger;
}

export class EventBus<Events extends { [K in keyof Events]: object } = GatewayEvents> {
  private readonly topics = new Map<string, Subscription[]>();
  private readonly failureCounts = new Map<string, number>();
  private readonly log: Logger;
  private delivering = false;
  private readonly queue: Queued[] = [];
  private failureListener: ((subscriber: string, topic: string) => void) | undefined;

  constructor(options: EventBusOptions = {}) {
    this.log = (options.logger ?? silentLogger()).child({ component: 'bus' });
  }

  /**
   * Subscribes `handler` to `topic` under `name` (logs and failure counts use it; one consumer may use one
   * name on several topics). Returns the unsubscribe function.
   */
  subscribe<K extends keyof Events & string>(topic: K, name: string, handler: Subscriber<Events[K]>): () => void {
    // Copy on write: an emit in progress keeps iterating the list it started with.
    const current = this.topics.get(topic) ?? [];
    const subscription: Subscription = { name, handler: handler as Subscriber<never> };
    this.topics.set(topic, [...current, subscription]);
    return () => {
      const list = this.topics.get(topic);
      if (list !== undefined) this.topics.set(topic, list.filter((s) => s !== subscription));
    };
  }

  /** Delivers `event` to every subscriber of `topic`. Never throws, never waits. */
  emit<K extends keyof Events & string>(topic: K, event: Events[K]): void {
    if (this.delivering) {
      this.queue.push({ topic, event });
      return;
    }
    this.delivering = true;
    try {
      this.deliver(topic, event);
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) this.deliver(next.topic, next.event);
    } finally {
      this.delivering = false;
    }
  }

  subscriberCount<K extends keyof Events & string>(topic: K): number {
    return this.topics.get(topic)?.length ?? 0;
  }

  /** Failures per subscriber name since start (for metrics). */
  failures(): ReadonlyMap<string, number> {
    return this.failureCounts;
  }

  /** One hook, e.g. a metrics counter, called on every subscriber failure. It is itself guarded. */
  onFailure(listener: (subscriber: string, topic: string) => void): void {
    this.failureListener = listener;
  }

  private deliver(topic: string, event: unknown): void {
    const list = this.topics.get(topic);
    if (list === undefined) return;
    for (const subscription of list) {
      try {
        const result = (subscription.handler as Subscriber<unknown>)(event);
        if (result !== undefined && typeof (result as PromiseLike<unknown>).then === 'function') {
          (result as PromiseLike<unknown>).then(undefined, (err: unknown) => this.failed(subscription.name, topic, err));
        }
      } catch (err) {
        this.failed(subscription.name, topic, err);
      }
    }
  }

  private failed(name: string, topic: string, err: unknown): void {
    const count = (this.failureCounts.get(name) ?? 0) + 1;
    this.failureCounts.set(name, count);
    if (count === 1) {
      this.log.error({ err, subscriber: name, topic }, `event subscriber "${name}" failed; its later failures are counted, not logged`);
    }
    try {
      this.failureListener?.(name, topic);
    } catch {
      // A failing failure hook must not turn into a failure loop.
    }
  }
}
