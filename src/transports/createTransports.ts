// Builds the miner listeners the config turns on (a port of 0 = off), all sharing one ConnectionLimiter.
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import { ConnectionLimiter } from './ConnectionLimiter.js';
import type { Transport, TransportDeps } from './ListenerBase.js';
import { TcpTransport } from './TcpTransport.js';
import { TlsTransport } from './TlsTransport.js';
import type { ConnectionAcceptor, TransportKind } from './types.js';
import type { AdmissionCheck } from './ListenerBase.js';
import { WsTransport } from './WsTransport.js';
import { HttpPollTransport } from './HttpPollTransport.js';

export interface StratumTransports {
  readonly transports: readonly Transport[];
  /** Present when stratum.tlsPort is set; wire its reloadCertificates() to SIGHUP. */
  readonly tls: TlsTransport | undefined;
  readonly limiter: ConnectionLimiter;
}

/** Throws TransportError('TLS_CERT_LOAD') when the TLS port is on and its certificate cannot be loaded. */
export function createStratumTransports(
  config: StratumConfig,
  acceptor: ConnectionAcceptor,
  logger: Logger,
  isRefused?: (ip: string) => boolean,
): StratumTransports {
  const limiter = new ConnectionLimiter(config, logger.child({ component: 'connection-limiter' }));
  const deps = { acceptor, limiter, logger, isRefused };
  const transports: Transport[] = [];
  if (config.port > 0) transports.push(new TcpTransport(config, deps));
  const tls = config.tlsPort > 0 ? new TlsTransport(config, deps) : undefined;
  if (tls !== undefined) transports.push(tls);
  if (config.wsPort > 0) transports.push(new WsTransport(config, deps));
  return { transports, tls, limiter };
}

// --- listeners from port profiles (docs/gateway.md "Ports and profiles") ---

/** One listener to build; the session layer resolves which acceptor (port profile) it feeds. */
export interface StratumListenerSpec {
  readonly kind: TransportKind;
  readonly host: string;
  readonly port: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly acceptor: ConnectionAcceptor;
  /** Name of the profile (logs). */
  readonly profile: string;
}

export interface StratumListeners {
  readonly listeners: ReadonlyArray<{ readonly spec: StratumListenerSpec; readonly transport: Transport }>;
  /** Every TLS listener; wire their reloadCertificates() to SIGHUP. */
  readonly tls: readonly TlsTransport[];
  readonly limiter: ConnectionLimiter;
}

/**
 * Every listener of every profile, sharing one ConnectionLimiter and one admission check.
 * Throws TransportError('TLS_CERT_LOAD') for a TLS listener whose certificate cannot be loaded.
 */
export function createStratumListeners(
  config: StratumConfig,
  specs: readonly StratumListenerSpec[],
  logger: Logger,
  options: { admission?: AdmissionCheck } = {},
): StratumListeners {
  const limiter = new ConnectionLimiter(config, logger.child({ component: 'connection-limiter' }));
  const listeners: Array<{ spec: StratumListenerSpec; transport: Transport }> = [];
  const tls: TlsTransport[] = [];
  for (const spec of specs) {
    const deps: TransportDeps = { acceptor: spec.acceptor, limiter, logger: logger.child({ profile: spec.profile }), admission: options.admission };
    const base = { ...config, host: spec.host };
    let transport: Transport;
    if (spec.kind === 'tcp') transport = new TcpTransport({ ...base, port: spec.port }, deps);
    else if (spec.kind === 'ws') transport = new WsTransport({ ...base, wsPort: spec.port }, deps);
    else if (spec.kind === 'tls') {
      const listener = new TlsTransport({ ...base, tlsPort: spec.port, tlsCertFile: spec.tlsCertFile, tlsKeyFile: spec.tlsKeyFile }, deps);
      tls.push(listener);
      transport = listener;
    } else {
      transport = new HttpPollTransport({ ...base, port: spec.port }, deps);
    }
    listeners.push({ spec, transport });
  }
  return { listeners, tls, limiter };
}
