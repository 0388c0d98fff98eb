// Port profiles (docs/gateway.md "Ports and profiles"): the flat stratum keys are the default profile (its tcp,
// tls and ws ports share one nonce-prefix allocator, as before); each entry of stratum.listeners is one more
// profile with its own share difficulty, vardiff and nonce-prefix digits.
import type { ListenerTransport, StratumConfig, VardiffConfig } from '../config/schema.js';

export const DEFAULT_PROFILE = 'default';

export interface ProfileListener {
  readonly transport: ListenerTransport;
  readonly host: string;
  readonly port: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
}

export interface PortProfileSpec {
  readonly name: string;
  readonly noncePrefixDigits: number;
  readonly shareDifficulty: number;
  /** undefined = fixed difficulty. */
  readonly vardiff: VardiffConfig | undefined;
  readonly listeners: readonly ProfileListener[];
}

export class PortProfileError extends Error {
  readonly code = 'PORT_PROFILE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'PortProfileError';
  }
}

type ProfileConfig = Pick<
  StratumConfig,
  'host' | 'port' | 'tlsPort' | 'wsPort' | 'tlsCertFile' | 'tlsKeyFile' | 'noncePrefixDigits' | 'shareDifficulty' | 'vardiff' | 'listeners'
>;

function checkedVardiff(v: VardiffConfig, where: string): VardiffConfig | undefined {
  if (!v.enabled) return undefined;
  if (v.minDifficulty > v.maxDifficulty) throw new PortProfileError(`${where}: vardiff.minDifficulty above maxDifficulty`);
  if (v.maxStep < 1.1) throw new PortProfileError(`${where}: vardiff.maxStep must be at least 1.1`);
  if (v.variancePercent > 90) throw new PortProfileError(`${where}: vardiff.variancePercent must be 0–90`);
  if (v.targetSeconds <= 0 || v.retargetSeconds <= 0) throw new PortProfileError(`${where}: vardiff seconds must be positive`);
  return v;
}

/** Every profile the config turns on; the default one first (it may have no listener). Throws PortProfileError. */
export function resolvePortProfiles(stratum: ProfileConfig): PortProfileSpec[] {
  const files = { tlsCertFile: stratum.tlsCertFile, tlsKeyFile: stratum.tlsKeyFile };
  const defaultListeners: ProfileListener[] = [];
  if (stratum.port > 0) defaultListeners.push({ transport: 'tcp', host: stratum.host, port: stratum.port, ...files });
  if (stratum.tlsPort > 0) defaultListeners.push({ transport: 'tls', host: stratum.host, port: stratum.tlsPort, ...files });
  if (stratum.wsPort > 0) defaultListeners.push({ transport: 'ws', host: stratum.host, port: stratum.wsPort, ...files });
  const profiles: PortProfileSpec[] = [
    {
      name: DEFAULT_PROFILE,
      noncePrefixDigits: stratum.noncePrefixDigits,
      shareDifficulty: stratum.shareDifficulty,
      vardiff: checkedVardiff(stratum.vardiff, 'stratum.vardiff'),
      listeners: defaultListeners,
    },
  ];
  const names = new Set([DEFAULT_PROFILE]);
  const ports = new Set(defaultListeners.map((l) => `${l.host}:${l.port}`));
  for (const entry of stratum.listeners) {
    const name = entry.name ?? `${entry.transport}:${entry.port}`;
    if (names.has(name)) throw new PortProfileError(`listener name ${name} used twice`);
    names.add(name);
    const host = entry.host ?? stratum.host;
    if (ports.has(`${host}:${entry.port}`)) throw new PortProfileError(`port ${entry.port} used twice`);
    ports.add(`${host}:${entry.port}`);
    const vardiff = { ...stratum.vardiff, enabled: false, ...entry.vardiff };
    const tlsCertFile = entry.tlsCertFile ?? stratum.tlsCertFile;
    const tlsKeyFile = entry.tlsKeyFile ?? stratum.tlsKeyFile;
    if (entry.transport === 'tls' && (tlsCertFile === '' || tlsKeyFile === '')) throw new PortProfileError(`listener ${name}: TLS needs tlsCertFile and tlsKeyFile`);
    profiles.push({
      name,
      noncePrefixDigits: entry.noncePrefixDigits ?? stratum.noncePrefixDigits,
      shareDifficulty: entry.shareDifficulty ?? stratum.shareDifficulty,
      vardiff: checkedVardiff(vardiff, `listener ${name}`),
      listeners: [
        {
          transport: entry.transport,
          host,
          port: entry.port,
          tlsCertFile,
          tlsKeyFile,
        },
      ],
    });
  }
  return profiles;
}
