// Plain TCP stratum listener (stratum.port): bytes in, lines out.
import { createServer, type Server, type Socket } from 'node:net';
import type { StratumConfig } from '../config/schema.js';
import { ListenerBase, type ListenerConfig, type TransportDeps } from './ListenerBase.js';
import { StreamConnection } from './StreamConnection.js';

export type TcpTransportConfig = ListenerConfig & Pick<StratumConfig, 'port'>;

export class TcpTransport extends ListenerBase {
  protected readonly server: Server;

  constructor(config: TcpTransportConfig, deps: TransportDeps) {
    super('tcp', config, config.port, deps);
    this.server = createServer({ allowHalfOpen: false }, (socket) => this.onConnection(socket));
  }

  private onConnection(socket: Socket): void {
    const ip = this.admit(socket);
    if (ip === undefined) return;
    this.accept(new StreamConnection('tcp', socket, ip, socket.remotePort ?? 0, this, false), socket);
  }
}
