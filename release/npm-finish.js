'use strict';
// After `napi create-npm-dirs`: the release choices napi-rs leaves to us.
//   node npm-finish.js <stage> <version>
// - main package: no devDependencies/scripts/napi build config, no dev binary
//   in "files"; every platform package, the WebAssembly one included, is an
//   optional dependency at exactly this version.
// - fusewire-wasm32-wasi: napi-rs marks it cpu "wasm32", which no host
//   reports, so npm would never install it as an optional dependency. We drop
//   that field so it installs everywhere and `require('fusewire')` works on
//   any platform Node runs on (macOS, Windows, FreeBSD, linux-ppc64 ...): the
//   price is ~0.2 MB more per install. Its runtime is pinned to the version
//   node/package-lock.json tests with.
const fs = require('node:fs');
const path = require('node:path');

const [stage, version] = process.argv.slice(2);
const read = f => JSON.parse(fs.readFileSync(f, 'utf8'));
const write = (f, j) => fs.writeFileSync(f, JSON.stringify(j, null, 2) + '\n');
const nodeDir = path.join(__dirname, '..', 'node');
const dev = read(path.join(nodeDir, 'package.json')).devDependencies;

const mainFile = path.join(stage, 'fusewire', 'package.json');
const main = read(mainFile);
if (main.version !== version) throw new Error(`node/package.json is ${main.version}, the workspace ${version}`);
const platforms = fs.readdirSync(path.join(stage, 'fusewire', 'npm')).sort();
const optional = {};
for (const dir of platforms) {
  const file = path.join(stage, 'fusewire', 'npm', dir, 'package.json');
  const pkg = read(file);
  if (pkg.version !== version) throw new Error(`${pkg.name} is ${pkg.version}, want ${version}`);
  pkg.license = main.license;
  pkg.repository = main.repository;
  pkg.files = [...new Set([...(pkg.files || []), 'LICENSE-MIT', 'LICENSE-APACHE'])];
  if (dir === 'wasm32-wasi') {
    delete pkg.cpu;
    delete pkg.types; // the .d.cts is the raw binding's; users get fusewire's own index.d.ts
    pkg.dependencies = { '@napi-rs/wasm-runtime': dev['@napi-rs/wasm-runtime'] };
    pkg.files = pkg.files.filter(f => !f.endsWith('.d.cts') && !f.endsWith('.debug.wasm'));
    pkg.files = pkg.files.filter(f => fs.existsSync(path.join(stage, 'fusewire', 'npm', dir, f)));
  }
  optional[pkg.name] = version;
  write(file, pkg);
}
delete main.devDependencies;
delete main.scripts;
delete main.napi;
main.files = main.files.filter(f => f !== 'fusewire.node').concat(['LICENSE-MIT', 'LICENSE-APACHE']);
main.optionalDependencies = optional;
write(mainFile, main);
console.log(`npm: ${main.name}@${version} with optional ${Object.keys(optional).join(', ')}`);
