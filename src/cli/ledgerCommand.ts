// `equigate ledger report --block HEIGHT --reward UNITS [--scheme pplns|prop] [--window N] [--format json|csv]`:
// how the reward of a block the node accepted splits among miners (docs/ledger.md "Reward reports").
// The books are found like the gateway finds them: --config FILE, EQUIGATE_LEDGER_URL or --ledger-url.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { silentLogger } from '../config/logger.js';
import { openLedgerStore } from '../ledger/Ledger.js';
import { reportToCsv, rewardReport, DEFAULT_PPLNS_WINDOW, type RewardScheme } from '../ledger/rewards.js';
import { LedgerError } from '../ledger/types.js';

const USAGE = `usage: equigate ledger report --block HEIGHT --reward UNITS [--scheme pplns|prop] [--window N] [--format json|csv]
                              [--config FILE | --ledger-url URL]
  --block    height of a block the node accepted (as recorded in the ledger)
  --reward   the amount to split, an integer in the chain's smallest unit (groth for Beam: 1 BEAM = 100000000)
  --scheme   pplns (default): the last --window difficulty units of shares up to the block
             prop: every share of the round (since the previous accepted block)
  --window   PPLNS window in difficulty units (default ${DEFAULT_PPLNS_WINDOW})
  --format   json (default) or csv (miner,difficulty,amount)
Amounts are exact integers that sum to --reward; paying them is the wallet's job (docs/ledger.md).
`;

const INTEGER = /^[0-9]{1,40}$/;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'report') {
    process.stderr.write(`equigate ledger: unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  let values;
  try {
    values = parseArgs({
      args: rest,
      options: {
        block: { type: 'string' },
        reward: { type: 'string' },
        scheme: { type: 'string', default: 'pplns' },
        window: { type: 'string' },
        format: { type: 'string', default: 'json' },
        config: { type: 'string' },
        'ledger-url': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`equigate ledger report: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const bad = (why: string): number => {
    process.stderr.write(`equigate ledger report: ${why}\n${USAGE}`);
    return 2;
  };
  if (values.block === undefined || !/^[0-9]{1,15}$/.test(values.block)) return bad('--block HEIGHT (a non-negative integer) is required');
  if (values.reward === undefined || !INTEGER.test(values.reward)) return bad('--reward UNITS (a non-negative integer) is required');
  if (values.scheme !== 'pplns' && values.scheme !== 'prop') return bad('--scheme must be pplns or prop');
  if (values.window !== undefined && (!INTEGER.test(values.window) || BigInt(values.window) === 0n)) return bad('--window must be a positive integer');
  if (values.format !== 'json' && values.format !== 'csv') return bad('--format must be json or csv');

  let config;
  try {
    const overrides = values['ledger-url'] === undefined ? {} : { ledger: { url: values['ledger-url'] } };
    config = loadConfig({ file: values.config, args: [], overrides });
  } catch (err) {
    if (err instanceof ConfigError) return bad(`bad configuration: ${err.message}`);
    throw err;
  }
  let store;
  try {
    store = await openLedgerStore(config.ledger, silentLogger());
  } catch (err) {
    if (err instanceof LedgerError) {
      process.stderr.write(`equigate ledger report: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  try {
    const report = await rewardReport(store, {
      height: Number(values.block),
      scheme: values.scheme as RewardScheme,
      reward: BigInt(values.reward),
      window: values.window === undefined ? undefined : BigInt(values.window),
    });
    process.stdout.write(values.format === 'csv' ? reportToCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof LedgerError) {
      process.stderr.write(`equigate ledger report: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await store.close();
  }
}
