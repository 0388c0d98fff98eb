// Builds the miner listeners the config turns on (a port of 0 = off), all sharing one ConnectionLimiter.
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import { ConnectionLimiter } from './ConnectionLimiter.js';
import type { Transport } from './ListenerBase.js';
import { TcpTransport } from './TcpTransport.js';
import { TlsTransport } from './TlsTransport.js';
import type { ConnectionAcceptor } from './types.js';
import { WsTransport } from './WsTransport.js';

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
