// What a session knows of the port it came in on (docs/gateway.md "Ports and profiles").
import type { VardiffConfig } from '../config/schema.js';
import type { NoncePrefixAllocator } from './NoncePrefixAllocator.js';

export interface SessionProfile {
  readonly name: string;
  readonly prefixes: Pick<NoncePrefixAllocator, 'allocate' | 'release' | 'capacity' | 'shared'>;
  /** Share difficulty a session starts at (float) and its packed form. */
  readonly initialDifficulty: number;
  readonly initialPacked: number;
  /** undefined = fixed difficulty. */
  readonly vardiff: VardiffConfig | undefined;
}
