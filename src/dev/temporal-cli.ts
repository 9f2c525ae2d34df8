/**
 * Finds the `temporal` CLI (which embeds the dev server and Web UI): TEMPORAL_CLI_PATH, then PATH,
 * then $(go env GOPATH)/bin; installs it with `go install` when Go is available. v1.5.1 is pinned
 * because later tags carry `replace` directives that `go install pkg@version` refuses.
 */
import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** Whether `file` exists and may be executed. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` found in a directory of PATH, if any. */
export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, name)))) return path.join(dir, name);
  }
  return undefined;
}

/** Where `go install` puts binaries (GOBIN, else the first GOPATH's bin), or undefined without Go. */
export async function goBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await run('go', ['env', 'GOBIN', 'GOPATH']);
    const [gobin, gopath] = stdout.split('\n').map((s) => s.trim());
    if (gobin) return gobin;
    const first = gopath?.split(path.delimiter)[0];
    return first ? path.join(first, 'bin') : undefined;
  } catch {
    return undefined; // no Go toolchain
  }
}

/** The CLI's path if it is already on this machine, without installing anything. */
export async function findTemporalCli(explicitPath?: string): Promise<string | undefined> {
  if (explicitPath) {
    if (await isExecutable(explicitPath)) return explicitPath;
    throw new Error(`TEMPORAL_CLI_PATH=${explicitPath} is not an executable file`);
  }
  const fromPath = await onPath('temporal');
  if (fromPath) return fromPath;
  const bin = await goBinDir();
  if (bin && (await isExecutable(path.join(bin, 'temporal')))) return path.join(bin, 'temporal');
  return undefined;
}

/**
 * The CLI's path, building it with `go install` if needed. Returns undefined when neither the CLI
 * nor Go is available (the caller may then fall back to the SDK's download).
 */
export async function ensureTemporalCli(
  explicitPath: string | undefined,
  log: (msg: string) => void = (m) => console.error(m),
): Promise<string | undefined> {
  const found = await findTemporalCli(explicitPath);
  if (found) return found;
  const bin = await goBinDir();
  if (!bin) return undefined;
  log(`Temporal CLI not found; installing ${TEMPORAL_CLI_MODULE} with go install (the first build takes minutes)…`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', TEMPORAL_CLI_MODULE], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install exited with code ${code}`))));
  });
  const installed = path.join(bin, 'temporal');
  if (!(await isExecutable(installed))) throw new Error(`go install succeeded but ${installed} is missing`);
  return installed;
}
