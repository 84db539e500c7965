#!/usr/bin/env node
// Runs cockatiel's own mocha suite against fusewire/cockatiel (or, for
// reference, against cockatiel itself). See test/cockatiel-suite/README.md.
//
//   node scripts/cockatiel-suite.mjs                    vendored suite, fusewire/cockatiel
//   node scripts/cockatiel-suite.mjs --against cockatiel  same suite, on the npm cockatiel 4.0.0
//   node scripts/cockatiel-suite.mjs --src /path/to/cockatiel-checkout/src [--expect N]
//   options: --expect N (cases that must pass; 128 for the vendored suite),
//            --keep (leave the work directory and print its path)
//
// The test files are used as they are: each `*.test.ts` is transpiled
// (TypeScript's transpileModule, no type check) into a temporary dist/
// laid out as cockatiel's own, and every cockatiel module the tests import
// (`./Policy.js`, `./breaker/Breaker.js`, `../errors/Errors.js`, ...,
// and `dist/index.js` that `runInChild` loads) is written there as a
// one-line re-export of fusewire/cockatiel. The exceptions are
// cockatiel's internal helpers the tests use as fixtures
// (common/abort.js: `abortedSignal`; common/defer.js: `defer`;
// common/Executor.js), which re-export cockatiel's own files from the npm
// package pinned in test/cockatiel-suite/package-lock.json.
//
// dist/index.js, the module `runInChild` (common/util.test) loads in its
// child process before running the case's code, also waits for one 0 ms
// timer: see CHILD_START below. No case is skipped or retried; the run
// fails on any failing or pending case, or (vendored suite) on a number of
// passing cases other than 128.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = resolve(here, '..');
const suiteDir = join(nodeDir, 'test', 'cockatiel-suite');
const suiteModules = join(suiteDir, 'node_modules');

// cockatiel's tests of its internal helpers, not of its API: not run.
const NOT_RUN = new Set(['common/abort.test.ts', 'common/Executor.test.ts']);
// cockatiel's internal helpers the tests import as fixtures: cockatiel's own.
const INTERNALS = new Set(['common/abort.js', 'common/defer.js', 'common/Executor.js']);
// runInChild's child is an ES module (`.test.mjs`, top-level await), so the
// case's code runs inside an event-loop iteration, and libuv (since 1.45,
// Node 20) runs the due timers at the end of every iteration, whether or not
// anything keeps the loop alive. "RetryPolicy unrefs as requested" checks
// that an unref'd 0 ms retry timer lets the process exit without retrying;
// but a 0 ms timer is due once the loop's millisecond clock ticks, so it
// fired before the exit whenever the clock ticked before that iteration
// ended: about 1 run in 3 of that case, on cockatiel 4.0.0 as on
// fusewire/cockatiel (and 37 in 40 for a bare setTimeout(..., 0).unref()
// in an ES module entry, no library at all). Started from a timer callback
// instead, the code creates its timers during the timers phase, when
// libuv has already taken the clock and Node schedules a new timer 1 ms or
// more ahead: such a timer runs only in a later iteration, which happens
// only if something keeps the loop alive, which is what the case checks
// (with the retry timer left ref'd, it fails every time).
const CHILD_START = 'await new Promise(resolve => setTimeout(resolve, 0));\n';

function parseArgs (argv) {
  const args = { against: 'fusewire', src: null, expect: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--against') args.against = argv[++i];
    else if (a === '--src') args.src = argv[++i];
    else if (a === '--expect') args.expect = Number(argv[++i]);
    else if (a === '--keep') args.keep = true;
    else throw new Error(`cockatiel-suite: unknown argument ${a}`);
  }
  if (args.against !== 'fusewire' && args.against !== 'cockatiel') {
    throw new Error(`cockatiel-suite: --against is fusewire or cockatiel, not ${args.against}`);
  }
  if (args.expect !== null && !(Number.isInteger(args.expect) && args.expect > 0)) {
    throw new Error('cockatiel-suite: --expect takes a positive whole number of cases');
  }
  if (args.src === null) {
    args.src = join(suiteDir, 'src');
    if (args.expect === null) args.expect = 128;
  }
  args.src = resolve(args.src);
  if (!existsSync(args.src)) throw new Error(`cockatiel-suite: no such folder: ${args.src} (--src / COCKATIEL= is a cockatiel checkout; its src/*.test.ts are run)`);
  return args;
}

function testFiles (dir, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p, base));
    else if (e.name.endsWith('.test.ts')) {
      const rel = relative(base, p).split(sep).join('/');
      if (!NOT_RUN.has(rel)) out.push(rel);
    }
  }
  return out.sort();
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
if (!existsSync(join(suiteModules, '.package-lock.json'))) {
  console.error(`cockatiel-suite: ${suiteModules} is missing: run \`make -C node cockatiel-suite-deps\` (npm ci from the committed lock)`);
  process.exit(2);
}
const require = createRequire(join(suiteModules, 'noop.js'));
const ts = require('typescript');
const cockatielDist = join(suiteModules, 'cockatiel', 'dist');
const cockatielVersion = JSON.parse(readFileSync(join(suiteModules, 'cockatiel', 'package.json'), 'utf8')).version;
const target = args.against === 'fusewire' ? join(nodeDir, 'cockatiel.mjs') : join(cockatielDist, 'index.js');

const files = testFiles(args.src);
if (files.length === 0) {
  console.error(`cockatiel-suite: no *.test.ts under ${args.src}`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'fusewire-cockatiel-suite-'));
const dist = join(work, 'dist');
writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
symlinkSync(suiteModules, join(work, 'node_modules'), 'dir');
process.on('exit', () => {
  if (args.keep) console.log(`cockatiel-suite: work directory kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

// 1. the test files, transpiled one by one (types erased, nothing checked)
const imported = new Set(['index.js']); // runInChild loads dist/index.js
const compilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  inlineSourceMap: true,
  inlineSources: true,
};
for (const rel of files) {
  const source = readFileSync(join(args.src, rel), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: rel });
  const out = join(dist, rel.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
  // static imports only (util.test's `import('./dist/index.js')` is the child's, in a string)
  for (const m of outputText.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*'(\.{1,2}\/[^']+)'|^import\s*'(\.{1,2}\/[^']+)'/gm)) {
    const mod = relative(dist, resolve(dirname(out), m[1] ?? m[2])).split(sep).join('/');
    if (!mod.endsWith('.test.js')) imported.add(mod);
  }
}

// 2. every cockatiel module they import: a re-export of the library under test
for (const mod of imported) {
  const out = join(dist, mod);
  if (existsSync(out)) continue;
  let from;
  if (INTERNALS.has(mod)) from = join(cockatielDist, mod);
  else if (args.against === 'fusewire') from = target;
  else from = join(cockatielDist, mod);
  if (!existsSync(from)) {
    console.error(`cockatiel-suite: the tests import ${mod}, which ${from} does not provide`);
    process.exit(2);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `export * from ${JSON.stringify(pathToFileURL(from).href)};\n${mod === 'index.js' ? CHILD_START : ''}`);
}

// 3. mocha (cockatiel's own settings: 10 s timeout), its JSON report read back
const mocha = join(suiteModules, 'mocha', 'bin', 'mocha.js');
function runMocha () {
  const report = join(work, 'report.json');
  const argv = ['--enable-source-maps', mocha, '--timeout', '10000', '--reporter', 'json',
    '--reporter-option', `output=${report}`, 'dist/**/*.test.js'];
  const r = spawnSync(process.execPath, argv, { cwd: work, encoding: 'utf8' });
  if (!existsSync(report)) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`cockatiel-suite: mocha wrote no report (exit ${r.status})`);
    process.exit(1);
  }
  return JSON.parse(readFileSync(report, 'utf8'));
}

function showFailure (f) {
  console.log(`  not ok: ${f.fullTitle}`);
  const msg = (f.err && (f.err.stack || f.err.message)) || JSON.stringify(f.err);
  console.log(String(msg).split('\n').slice(0, 12).map(l => `    ${l}`).join('\n'));
}

const label = args.against === 'fusewire' ? 'fusewire/cockatiel' : `cockatiel ${cockatielVersion}`;
const started = Date.now();
const { stats: { passes, failures, pending }, failures: failed } = runMocha();
for (const f of failed) showFailure(f);

const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`cockatiel-suite: cockatiel's own suite (${files.length} test files from ${relative(process.cwd(), args.src).startsWith('..') ? args.src : relative(process.cwd(), args.src) || '.'}) on ${label}: ` +
  `${passes} passing, ${failures} failing, ${pending} pending (${secs} s)`);

let ok = failures === 0 && pending === 0;
if (pending > 0) console.log('cockatiel-suite: pending (skipped) cases are not allowed');
if (args.expect !== null && passes !== args.expect) {
  console.log(`cockatiel-suite: expected ${args.expect} passing cases, got ${passes}`);
  ok = false;
}
process.exit(ok ? 0 : 1);
