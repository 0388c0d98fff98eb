// Raw stratum sessions for the client processes: connect many, log in, and hand each session's lines on.
import net from 'node:net';

export interface RawSession {
  readonly socket: net.Socket;
  readonly index: number;
  /** From the login result ('' if none). */
  noncePrefix: string;
  /** The job sent right after login. */
  firstJob: { readonly id: string; readonly input: string } | undefined;
}

const LOGIN_RESULT_RE = /"method":"result"[^\n]*"code":0\b/;
const PREFIX_RE = /"nonceprefix":"([0-9a-f]*)"/;
const JOB_ID_RE = /"method":"job","id":"(\d+)"/;
const JOB_INPUT_RE = /"input":"([0-9a-f]{64})"/;

/** Job id of a `job` line, or undefined for any other line. */
export function jobIdOf(line: string): string | undefined {
  return JOB_ID_RE.exec(line)?.[1];
}

/**
 * Opens `count` connections to 127.0.0.1:`port`, at most `concurrency` connecting at once, each logging in with
 * its own key and waiting for its login result and first job. After that, every complete line goes to
 * `onLine(session, line, receivedAtMs)` (`clock` read once per chunk). Failed sessions are counted, not thrown.
 */
export async function openSessions(options: {
  port: number;
  count: number;
  concurrency: number;
  clock: () => number;
  onLine: (session: RawSession, line: string, at: number) => void;
  timeoutMs: number;
}): Promise<{ sessions: RawSession[]; failed: number }> {
  const sessions: RawSession[] = [];
  let failed = 0;
  let next = 0;
  const openOne = (index: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: options.port });
      socket.setNoDelay(true);
      const session: RawSession = { socket, index, noncePrefix: '', firstJob: undefined };
      let carry = '';
      let loggedIn = false;
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) sessions.push(session);
        else {
          failed++;
          socket.destroy();
        }
        resolve();
      };
      const timer = setTimeout(() => settle(false), options.timeoutMs);
      socket.on('error', () => settle(false));
      socket.on('close', () => settle(false));
      socket.on('connect', () => {
        socket.write(`{"method":"login","id":"login","api_key":"bench-${index}","jsonrpc":"2.0"}\n`);
      });
      socket.on('data', (chunk: Buffer) => {
        const at = options.clock();
        let text = carry + chunk.toString('latin1');
        const end = text.lastIndexOf('\n');
        carry = text.slice(end + 1);
        if (end === -1) return;
        text = text.slice(0, end);
        for (const line of text.split('\n')) {
          if (settled) {
            options.onLine(session, line, at);
            continue;
          }
          if (!loggedIn && LOGIN_RESULT_RE.test(line)) {
            loggedIn = true;
            session.noncePrefix = PREFIX_RE.exec(line)?.[1] ?? '';
          } else if (loggedIn) {
            const id = jobIdOf(line);
            const input = JOB_INPUT_RE.exec(line)?.[1];
            if (id !== undefined && input !== undefined) {
              session.firstJob = { id, input };
              settle(true);
            }
          }
        }
      });
    });
  const worker = async (): Promise<void> => {
    while (next < options.count) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  return { sessions, failed };
}
