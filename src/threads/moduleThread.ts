// Starts a module of this package as a worker thread: its compiled .js beside the caller, or, when the caller runs
// from TypeScript sources under tsx, its .ts through a one-line bootstrap that registers tsx first (Node 20 workers
// do not inherit `--import tsx` hooks for their entry; tsx is a dev dependency, so this path is sources only).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `callerUrl`: the caller's `import.meta.url`; `sibling`: the thread module's base name in the caller's folder. */
export function startModuleThread(callerUrl: string, sibling: string, options: WorkerOptions = {}): Worker {
  const caller = fileURLToPath(callerUrl);
  const file = path.join(path.dirname(caller), `${sibling}${path.extname(caller)}`);
  if (!file.endsWith('.ts')) return new Worker(file, options);
  const tsxApi = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(pathToFileURL(file).href);
  const boot = `import(${tsxApi}).then((m) => { m.register(); return import(${entry}); }).catch((e) => { throw e; });`;
  return new Worker(boot, { ...options, eval: true });
}
