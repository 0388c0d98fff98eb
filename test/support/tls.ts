// Self-signed PEM certificate files for TLS listeners under test.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedPair } from '../../src/transports/certificates.js';

/** Writes cert.pem and key.pem (self-signed, CN `cn`) into `dir`; returns their paths in config key names. */
export async function makeCertFiles(dir: string, cn: string): Promise<{ tlsCertFile: string; tlsKeyFile: string }> {
  const pems = await selfSignedPair(cn);
  const tlsCertFile = join(dir, 'cert.pem');
  const tlsKeyFile = join(dir, 'key.pem');
  writeFileSync(tlsCertFile, pems.cert);
  writeFileSync(tlsKeyFile, pems.key);
  return { tlsCertFile, tlsKeyFile };
}
