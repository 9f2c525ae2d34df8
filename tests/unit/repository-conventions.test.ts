/**
 * What the repository tells people holds for the repository itself: the README names only files
 * that exist and every test layer, writes the transition table the code enforces, sends nobody to
 * a spec that is not shipped, and gives the deployment steps; the production Node major is the
 * same in the image, `.nvmrc` and CI, and the conventions CI checks are wired.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRANSITIONS } from '../../workflows/ticket-state.js';
import { TICKET_STATUSES } from '../../workflows/vocabulary.js';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const readme = read('README.md');

/** The text of a `## Heading` section, up to the next heading of the same level. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README section ${title}`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** Outputs that exist only once something ran (a build, a start, a test), never in a checkout. */
const GENERATED = [/^dist(\/|$)/, /^\.data(\/|$)/, /^tests\/client\/generated(\/|$)/, /^\.env$/];

describe('the README', () => {
  it('names only repository paths that exist', () => {
    const named = new Set<string>();
    const roots = 'src|tests|workflows|activities|migrations|deploy|nginx|bench|\\.ci';
    for (const m of readme.matchAll(new RegExp(`(?<![\\w/.-])((?:${roots})/[\\w./-]*[\\w-])`, 'g'))) named.add(m[1]!);
    for (const m of readme.matchAll(/`(\.?[\w.-]+\.(?:ts|js|json|ya?ml|env|example|sh|conf|template)|Dockerfile|\.nvmrc)`/g))
      named.add(m[1]!);
    // a bare file name is one of the repository's files wherever it sits (`replay.test.ts`)
    const files = new Set(
      execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
        .split('\n')
        .map((f) => path.basename(f)),
    );
    const pkg = JSON.parse(read('package.json')) as { dependencies: object; devDependencies: object };
    const packages = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
    // not paths of this repository: a desktop client's config file, the compiled entry beside `…/api.js`
    const elsewhere = new Set(['claude_desktop_config.json', 'worker.js']);
    const missing = [...named].filter(
      (p) =>
        !GENERATED.some((g) => g.test(p)) &&
        !elsewhere.has(p) &&
        !packages.has(p) &&
        !(p.includes('/') ? existsSync(path.join(root, p.replace(/\/\*$/, ''))) : files.has(p)),
    );
    expect(missing).toEqual([]);
    expect(named.size).toBeGreaterThan(40);
  });

  it('lists every test layer', () => {
    const tests = section('Tests');
    const layers = readdirSync(path.join(root, 'tests'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `tests/${d.name}`);
    expect(layers.filter((layer) => !tests.includes(`\`${layer}\``))).toEqual([]);
  });

  it('writes the transition table the workflow enforces', () => {
    const rows = [...readme.matchAll(/^\| `(\w+)` \| (.+) \|$/gm)].filter(([, from]) =>
      (TICKET_STATUSES as readonly string[]).includes(from!),
    );
    const table = Object.fromEntries(rows.map(([, from, to]) => [from, [...to!.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort()]));
    expect(table).toEqual(Object.fromEntries(Object.entries(TRANSITIONS).map(([from, to]) => [from, [...to].sort()])));
  });

  it('sends nobody to a document the repository does not ship', () => {
    expect(readme).not.toMatch(/SPEC(\.md)?\b|§\s?\d|seed 000/);
  });

  it('gives the deployment steps, and says where the MCP key is printed', () => {
    const steps = readme.slice(readme.indexOf('**Deployment steps**'));
    for (const step of ['cp .env.example .env', 'JWT_SECRET', 'DEFAULT_ADMIN_PASSWORD', 'docker compose up -d', 'MCP API Key', '/ready'])
      expect(steps, step).toContain(step);
    expect(readme).toMatch(/first `POST \/tickets` may answer `202 Accepted`/);
  });
});

describe('the platform', () => {
  const major = read('.nvmrc').trim();

  it('runs one supported Node major in the image, .nvmrc and CI', () => {
    expect(Number(major)).toBeGreaterThanOrEqual(22);
    const stages = [...read('Dockerfile').matchAll(/^FROM node:(\d+)\.\d+\.\d+-/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stages)).toEqual(new Set([major]));
    expect(read('.ci/run')).toContain(`"node-linux-$NODE22_ARCH@${major}"`);
    // engines still admits the machines' Node 20 while they move, and must admit the image's
    const engines = JSON.parse(read('package.json')).engines.node as string;
    expect(engines).toMatch(/^>=\s*2[02]\./);
  });

  it('starts the worker with one bounded heap everywhere it is started, and measures it started that way', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const flag = /--max-old-space-size=\d+/.exec(scripts['start:worker']!)?.[0];
    expect(flag, 'start:worker bounds the heap').toBeDefined();
    const composeWorker = /\n {2}worker:\n[\s\S]*?command: \[([^\]]*)\]/.exec(read('docker-compose.yml'))?.[1];
    expect(composeWorker).toContain(`'${flag}'`);
    expect(read('bench/worker-memory.bench.ts')).toContain(`const WORKER_HEAP_FLAG = '${flag}'`);
  });

  it('has the scripts and CI steps people expect: dev with watch, formatter checked, lint, types, both test runs', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.dev).toMatch(/\bwatch\b/);
    expect(scripts['format:check']).toMatch(/prettier --check/);
    const ci = read('.ci/run');
    for (const step of ['npm run -s lint', 'npm run -s typecheck', 'npm run -s format:check', 'npm test', 'run tests/unit tests/api'])
      expect(ci, step).toContain(step);
  });
});
