// TLS stratum listener (stratum.tlsPort) with a PEM certificate and key read from files.
// reloadCertificates() re-reads both (the composition root calls it on SIGHUP); new handshakes use the new
// pair, live connections keep theirs; a failed reload keeps the old context and logs why.
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createSecureContext, createServer, type Server, type TLSSocket } from 'node:tls';
import type { StratumConfig } from '../config/schema.js';
import { readRegularFile, readRegularFileSync } from '../config/watchedFile.js';
import { TransportError } from './errors.js';
import { ListenerBase, type ListenerConfig, type TransportDeps } from './ListenerBase.js';
import { StreamConnection } from './StreamConnection.js';

/** Largest certificate chain or key file read (regular files only, docs/hostile-peers.md "Files"). */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

export type TlsTransportConfig = ListenerConfig & Pick<StratumConfig, 'tlsPort' | 'tlsCertFile' | 'tlsKeyFile'>;

interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Checks that the pair loads (PEM parses, key matches certificate); throws TransportError otherwise. */
function checkPair(pair: KeyPair, files: string): X509Certificate {
  try {
    createSecureContext(pair);
    return new X509Certificate(pair.cert);
  } catch (error) {
    throw new TransportError('TLS_CERT_LOAD', `unusable TLS certificate/key (${files}): ${(error as Error).message}`, { cause: error });
  }
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

export class TlsTransport extends ListenerBase {
  protected readonly server: Server;
  /** Raw sockets still in their handshake, by peer address and port (a TLSSocket does not expose its raw socket). */
  private readonly handshaking = new Map<string, Socket>();
  private readonly forgetHandshake: (this: Socket) => void;

  /** Throws TransportError('TLS_CERT_LOAD') when the certificate or key cannot be read or do not match. */
  constructor(
    private readonly tlsConfig: TlsTransportConfig,
    deps: TransportDeps,
  ) {
    super('tls', tlsConfig, tlsConfig.tlsPort, deps);
    const pair = this.readPairSync();
    this.logCertificate(checkPair(pair, this.files()), 'TLS certificate loaded');
    this.server = createServer({ ...pair, allowHalfOpen: false, handshakeTimeout: this.handshakeTimeoutMs });
    this.server.on('connection', (raw: Socket) => this.onConnection(raw));
    this.server.on('secureConnection', (socket: TLSSocket) => this.onSecure(socket));
    this.server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
      this.logger.debug({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, code: error.code, err: error.message }, 'TLS handshake failed');
    });
    const handshaking = this.handshaking;
    this.forgetHandshake = function (this: Socket) {
      const key = peerKey(this);
      if (handshaking.get(key) === this) handshaking.delete(key);
    };
  }

  /**
   * Re-reads tlsCertFile and tlsKeyFile and uses them for new handshakes. Resolves true on success; on any
   * failure logs the reason, keeps the current certificate and resolves false (never rejects).
   */
  async reloadCertificates(): Promise<boolean> {
    try {
      const [certFile, keyFile] = await Promise.all([
        readRegularFile(this.tlsConfig.tlsCertFile, MAX_PEM_FILE_BYTES),
        readRegularFile(this.tlsConfig.tlsKeyFile, MAX_PEM_FILE_BYTES),
      ]);
      const cert = certFile.data;
      const key = keyFile.data;
      const certificate = checkPair({ cert, key }, this.files());
      this.server.setSecureContext({ cert, key });
      this.logCertificate(certificate, 'TLS certificate reloaded');
      return true;
    } catch (error) {
      this.logger.error({ err: (error as Error).message, ...this.fileFields() }, 'TLS certificate reload failed; keeping the current certificate');
      return false;
    }
  }

  private onConnection(raw: Socket): void {
    if (this.admit(raw) === undefined) return;
    this.handshaking.set(peerKey(raw), raw);
    raw.on('close', this.forgetHandshake);
  }

  private onSecure(socket: TLSSocket): void {
    const key = peerKey(socket);
    const raw = this.handshaking.get(key);
    this.handshaking.delete(key);
    if (raw === undefined || raw.destroyed) {
      socket.destroy();
      return;
    }
    raw.setTimeout(0); // the handshake timer; the TLS socket now keeps the idle timer
    // TLS 1.2 renegotiation is refused outright (miners never need it; it costs CPU and Node only limits it):
    // an attempt is a socket error, which destroys the connection (docs/hostile-peers.md).
    socket.disableRenegotiation();
    this.accept(new StreamConnection('tls', socket, this.ipOf(raw), socket.remotePort ?? 0, this, true), raw);
  }

  private readPairSync(): KeyPair {
    try {
      return {
        cert: readRegularFileSync(this.tlsConfig.tlsCertFile, MAX_PEM_FILE_BYTES).data,
        key: readRegularFileSync(this.tlsConfig.tlsKeyFile, MAX_PEM_FILE_BYTES).data,
      };
    } catch (error) {
      throw new TransportError('TLS_CERT_LOAD', `cannot read TLS certificate/key (${this.files()}): ${(error as Error).message}`, { cause: error });
    }
  }

  private files(): string {
    return `cert ${this.tlsConfig.tlsCertFile}, key ${this.tlsConfig.tlsKeyFile}`;
  }

  private fileFields(): { certFile: string; keyFile: string } {
    return { certFile: this.tlsConfig.tlsCertFile, keyFile: this.tlsConfig.tlsKeyFile };
  }

  private logCertificate(certificate: X509Certificate, message: string): void {
    const expired = Date.parse(certificate.validTo) < Date.now();
    const fields = { subject: certificate.subject, validTo: certificate.validTo, ...this.fileFields() };
    if (expired) this.logger.warn(fields, `${message}, but it has EXPIRED`);
    else this.logger.info(fields, message);
  }
}
