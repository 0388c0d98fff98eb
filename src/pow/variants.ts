// Chains, fork tables and variant selection. spec: docs/pow.md — "Variant by job height".
import { NativeVariant, type NativeVariantId } from './nativeLayout.js';

export type VariantName = 'beamhash1' | 'beamhash2' | 'beamhash3' | 'devnet';

export interface PowVariant {
  readonly name: VariantName;
  readonly nativeId: NativeVariantId;
  /** Solution (output) size in bytes. */
  readonly solutionBytes: number;
}

export const VARIANTS: Readonly<Record<VariantName, PowVariant>> = {
  beamhash1: { name: 'beamhash1', nativeId: NativeVariant.BeamHashI, solutionBytes: 104 },
  beamhash2: { name: 'beamhash2', nativeId: NativeVariant.BeamHashII, solutionBytes: 104 },
  beamhash3: { name: 'beamhash3', nativeId: NativeVariant.BeamHashIII, solutionBytes: 104 },
  // Equihash(48,5): 32 indices × 9 bits = 36 bytes.
  devnet: { name: 'devnet', nativeId: NativeVariant.Devnet, solutionBytes: 36 },
};

export type ChainName = 'beam-mainnet' | 'beam-testnet' | 'beam-masternet' | 'hds' | 'devnet';

interface ForkTable {
  /** Variant before the first fork. */
  readonly base: VariantName;
  /** Heights from which BeamHash II and III apply; Infinity = never. */
  readonly fork1: number;
  readonly fork2: number;
}

// spec: docs/pow.md fork table; test/vectors/beamhash.json fork_heights.
const CHAINS: Readonly<Record<ChainName, ForkTable>> = {
  'beam-mainnet': { base: 'beamhash1', fork1: 321321, fork2: 777777 },
  'beam-testnet': { base: 'beamhash1', fork1: 270910, fork2: 690000 },
  'beam-masternet': { base: 'beamhash1', fork1: 30, fork2: 30 },
  hds: { base: 'beamhash1', fork1: 321321, fork2: 777777 },
  // The devnet never forks into a real variant, and no real chain ever selects the devnet variant.
  devnet: { base: 'devnet', fork1: Infinity, fork2: Infinity },
};

export const CHAIN_NAMES = Object.keys(CHAINS) as ChainName[];

export function isChainName(value: string): value is ChainName {
  return Object.prototype.hasOwnProperty.call(CHAINS, value);
}

export function isVariantName(value: string): value is VariantName {
  return Object.prototype.hasOwnProperty.call(VARIANTS, value);
}

/** spec: vectors fork_heights.rule — III if h >= fork2; II if h >= fork1; else I. */
export function variantForHeight(chain: ChainName, height: number): PowVariant {
  const table = CHAINS[chain];
  if (height >= table.fork2) return VARIANTS.beamhash3;
  if (height >= table.fork1) return VARIANTS.beamhash2;
  return VARIANTS[table.base];
}

export function forkHeights(chain: ChainName): { fork1: number; fork2: number } {
  const { fork1, fork2 } = CHAINS[chain];
  return { fork1, fork2 };
}
