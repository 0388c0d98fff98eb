// `equigate pow verify`: one solution from flags, or a stream of JSON lines with --batch (docs/pow.md).
// Exit codes: 0 valid (every line, with --batch), 1 invalid, 2 bad usage.
import { parseArgs } from 'node:util';
import { parsePacked } from '../pow/difficulty.js';
import type { InvalidReason } from '../pow/types.js';
import {
  CHAIN_NAMES,
  VARIANTS,
  isChainName,
  isVariantName,
  variantForHeight,
  type PowVariant,
} from '../pow/variants.js';
import { VerifierPool } from '../pow/VerifierPool.js';
import {
  decodeHexSolution,
  rejectedResult,
  resultFromVerdict,
  verifySolution,
  type HexSolution,
  type VerifyResult,
} from '../pow/verifySolution.js';

const USAGE = `usage: equigate pow verify --input HEX --nonce HEX --output HEX
         (--variant ${Object.keys(VARIANTS).join('|')} | --chain NAME --height H) [--difficulty PACKED]
       equigate pow verify --batch  < solutions.jsonl

Prints {valid, pow, target, variant, reason} as JSON; exit 0 valid, 1 invalid, 2 bad usage.
--batch reads one JSON object per line ({input, nonce, output, variant | chain + height, difficulty?})
and writes one result line per input line, in order; exit 0 only if every line is valid.
chains: ${CHAIN_NAMES.join(', ')}; PACKED is a u32, decimal or 0x-hex (docs/pow.md).
`;

/** Longest accepted --batch line; a solution line is ~330 bytes, so this only stops runaway input. */
const MAX_LINE_CHARS = 1 << 20;
/** Lines being verified at once in --batch; bounds memory while keeping every worker slot fed. */
const BATCH_WINDOW = 4096;

const OPTIONS = {
  input: { type: 'string' },
  nonce: { type: 'string' },
  output: { type: 'string' },
  variant: { type: 'string' },
  chain: { type: 'string' },
  height: { type: 'string' },
  difficulty: { type: 'string' },
  batch: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const { batch, help, ...fields } = values;
  if (help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'verify') return usageError('expected the subcommand "verify"');
  if (batch === true) {
    if (Object.keys(fields).length > 0) return usageError('--batch takes its solutions from stdin, not from flags');
    return runBatch(process.stdin, process.stdout);
  }
  const request = requestFromFields(fields);
  if ('problem' in request) return usageError(request.problem);
  const result = verifySolution(request);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.valid ? 0 : 1;
}

function usageError(problem: string): number {
  process.stderr.write(`equigate pow verify: ${problem}\n${USAGE}`);
  return 2;
}

interface RequestProblem {
  readonly reason: InvalidReason;
  readonly problem: string;
  readonly variant: PowVariant | null;
}

/**
 * Reads a request from flag values or a parsed JSON line (same field names). Hex is decoded later, so a
 * bad hex field is an invalid solution ('bad-hex'), not a malformed request.
 */
export function requestFromFields(fields: Readonly<Record<string, unknown>>): HexSolution | RequestProblem {
  const variant = variantFromFields(fields);
  if ('problem' in variant) return variant;
  const malformed = (problem: string): RequestProblem => ({ reason: 'malformed-request', problem, variant });
  const { input, nonce, output, difficulty } = fields;
  if (typeof input !== 'string') return malformed('input (hex string) is required');
  if (typeof nonce !== 'string') return malformed('nonce (hex string) is required');
  if (typeof output !== 'string') return malformed('output (hex string) is required');
  if (difficulty === undefined || difficulty === null) return { variant, input, nonce, output, difficulty: null };
  const packed = parsePacked(difficulty);
  if (packed === null) return malformed(`difficulty must be a packed u32 (decimal or 0x-hex), got ${JSON.stringify(difficulty)}`);
  return { variant, input, nonce, output, difficulty: packed };
}

/** spec: docs/pow.md — the variant is named, or follows from the chain's fork table and the job height. */
function variantFromFields(fields: Readonly<Record<string, unknown>>): PowVariant | RequestProblem {
  const { variant, chain, height } = fields;
  const malformed = (problem: string): RequestProblem => ({ reason: 'malformed-request', problem, variant: null });
  if (variant !== undefined) {
    if (chain !== undefined || height !== undefined) return malformed('give either variant, or chain and height, not both');
    if (typeof variant !== 'string' || !isVariantName(variant)) {
      return { reason: 'unknown-variant', problem: `unknown variant ${JSON.stringify(variant)}`, variant: null };
    }
    return VARIANTS[variant];
  }
  if (chain === undefined) return malformed('give variant, or chain and height');
  if (typeof chain !== 'string' || !isChainName(chain)) return malformed(`unknown chain ${JSON.stringify(chain)}`);
  const blockHeight = parseHeight(height);
  if (blockHeight === null) return malformed(`height must be a non-negative integer, got ${JSON.stringify(height)}`);
  return variantForHeight(chain, blockHeight);
}

function parseHeight(value: unknown): number | null {
  const height = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  return typeof height === 'number' && Number.isSafeInteger(height) && height >= 0 ? height : null;
}

/** One --batch line to its result: immediate for malformed lines, from the pool otherwise. */
function verifyLine(line: string | null, pool: VerifierPool): VerifyResult | Promise<VerifyResult> {
  if (line === null) return rejectedResult('malformed-request', null);
  let fields: unknown;
  try {
    fields = JSON.parse(line);
  } catch {
    return rejectedResult('malformed-request', null);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return rejectedResult('malformed-request', null);
  const request = requestFromFields(fields as Record<string, unknown>);
  if ('problem' in request) return rejectedResult(request.reason, request.variant?.name ?? null);
  const decoded = decodeHexSolution(request);
  if (typeof decoded === 'string') return rejectedResult(decoded, request.variant.name);
  const difficulty = request.difficulty ?? null;
  return pool.verify(decoded).then((verdict) => resultFromVerdict(request.variant, verdict, difficulty));
}

interface Slot {
  text: string | null;
  readonly done: Promise<void>;
}

/**
 * Streams stdin to stdout: lines are verified concurrently through a VerifierPool (at most BATCH_WINDOW at
 * once) and their results written strictly in input order, coalesced into one write per event-loop turn.
 */
export async function runBatch(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<number> {
  const pool = new VerifierPool({ maxQueued: BATCH_WINDOW });
  const slots: Slot[] = [];
  let head = 0;
  let allValid = true;
  let fatal: unknown = null;
  let flushScheduled = false;
  let drained: Promise<void> | null = null;

  const flushReady = (): void => {
    flushScheduled = false;
    let text = '';
    for (let slot = slots[head]; slot !== undefined && slot.text !== null; slot = slots[head]) {
      text += slot.text;
      head += 1;
    }
    if (head >= BATCH_WINDOW) {
      slots.splice(0, head);
      head = 0;
    }
    if (text.length > 0 && !output.write(text) && drained === null) {
      drained = new Promise((resolve) => output.once('drain', () => resolve()).once('error', () => resolve()));
    }
  };
  const settle = (slot: Slot, result: VerifyResult): void => {
    slot.text = `${JSON.stringify(result)}\n`;
    if (!result.valid) allValid = false;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushReady);
    }
  };

  // A closed stdout (e.g. piped into `head`) ends the run with that error instead of an unhandled 'error'
  // event; the listener stays for writes still queued when the run ends.
  output.on('error', (err: unknown) => {
    fatal ??= err;
  });
  try {
    for await (const line of readLines(input, MAX_LINE_CHARS)) {
      const outcome = verifyLine(line, pool);
      const slot: Slot = {
        text: null,
        done: Promise.resolve(outcome).then(
          (result) => settle(slot, result),
          (err: unknown) => {
            fatal ??= err;
          },
        ),
      };
      slots.push(slot);
      // Never more than BATCH_WINDOW lines unwritten, so the pool's queue bound is never reached.
      while (fatal === null && slots.length - head >= BATCH_WINDOW) {
        await slots[head]?.done;
        flushReady();
      }
      if (fatal !== null) throw fatal;
      if (drained !== null) {
        await drained;
        drained = null;
      }
    }
    await Promise.all(slots.slice(head).map((slot) => slot.done));
    if (fatal !== null) throw fatal;
    flushReady();
  } finally {
    await pool.close();
  }
  return allValid ? 0 : 1;
}

/**
 * Lines of a text stream as they arrive (no read-ahead beyond one chunk); '\r\n' and '\n' both end a line,
 * a final unterminated line counts. A line longer than maxChars is yielded as null (and skipped).
 */
async function* readLines(stream: NodeJS.ReadableStream, maxChars: number): AsyncGenerator<string | null> {
  stream.setEncoding('utf8');
  let partial = '';
  let oversize = false;
  for await (const chunk of stream) {
    const text = chunk as string;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const line = oversize ? null : partial + text.slice(start, end);
      partial = '';
      oversize = false;
      start = end + 1;
      yield line === null || line.length > maxChars ? null : line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    if (!oversize) partial += text.slice(start);
    if (partial.length > maxChars) {
      partial = '';
      oversize = true;
    }
  }
  if (oversize) yield null;
  else if (partial.length > 0) yield partial.endsWith('\r') ? partial.slice(0, -1) : partial;
}
