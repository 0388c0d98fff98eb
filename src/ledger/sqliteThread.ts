// The SQLite ledger's own thread (docs/ledger.md "SQLite on its own thread"): owns the one SqliteStore and runs the
// requests SqliteThreadStore posts, one at a time in arrival order, so a commit or a statistics query never holds
// the gateway's event loop. Started only by SqliteThreadStore.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore, type SqliteStoreOptions } from './SqliteStore.js';
import { LedgerError, type LedgerErrorCode, type LedgerStore } from './types.js';

/** The store's operations that travel to the thread (close is a message of its own). */
export type ThreadOp = Exclude<keyof LedgerStore, 'kind' | 'close'>;

export type ThreadCall = { readonly op: ThreadOp; readonly args: readonly unknown[] } | { readonly op: 'close' };
export type ThreadRequest = ThreadCall & { readonly id: number };

/** An error as it crosses the thread boundary (structured clone drops the class). */
export interface ThreadFailure {
  readonly code: LedgerErrorCode;
  readonly message: string;
  readonly ambiguous: boolean;
}

export type ThreadReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'open-failed'; readonly failure: ThreadFailure }
  | { readonly kind: 'done'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'failed'; readonly id: number; readonly failure: ThreadFailure };

export function failureOf(err: unknown, fallback: LedgerErrorCode): ThreadFailure {
  if (err instanceof LedgerError) return { code: err.code, message: err.message, ambiguous: err.ambiguous };
  return { code: fallback, message: err instanceof Error ? err.message : String(err), ambiguous: false };
}

function serve(): void {
  const port = parentPort;
  if (port === null) throw new Error('sqliteThread runs only as a worker thread');
  let store: SqliteStore;
  try {
    store = new SqliteStore(workerData as SqliteStoreOptions);
  } catch (err) {
    port.postMessage({ kind: 'open-failed', failure: failureOf(err, 'open-failed') } satisfies ThreadReply);
    return;
  }
  port.on('message', (request: ThreadRequest) => {
    void (async (): Promise<ThreadReply> => {
      try {
        if (request.op === 'close') {
          await store.close();
          return { kind: 'done', id: request.id, value: undefined };
        }
        const method = store[request.op] as (...args: unknown[]) => Promise<unknown>;
        return { kind: 'done', id: request.id, value: await method.apply(store, [...request.args]) };
      } catch (err) {
        return { kind: 'failed', id: request.id, failure: failureOf(err, 'write-failed') };
      }
    })().then((reply) => {
      port.postMessage(reply);
      // Closed: nothing holds the thread any more, so it ends once the reply is out.
      if (request.op === 'close') port.close();
    });
  });
  port.postMessage({ kind: 'ready' } satisfies ThreadReply);
}

serve();
