// Self-signed PEM pairs, for what needs a TLS certificate without an operator's CA: the simulated node (a fresh
// node makes its own stratum.crt too) and tests. Production TLS listeners read the operator's PEM files.
import selfsigned from 'selfsigned';

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface SelfSignedOptions {
  /** IP addresses the certificate is valid for (subjectAltName), for clients that verify it. */
  readonly ips?: readonly string[];
}

/** A P-256 key and a self-signed certificate for common name `cn`. */
export async function selfSignedPair(cn: string, options: SelfSignedOptions = {}): Promise<PemPair> {
  const altNames = (options.ips ?? []).map((ip) => ({ type: 7 as const, ip }));
  const pems = await selfsigned.generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    ...(altNames.length > 0 ? { extensions: [{ name: 'subjectAltName', altNames }] } : {}),
  });
  return { cert: pems.cert, key: pems.private };
}
