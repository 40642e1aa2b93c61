// The require phase's program: load a package's entry points, in its own node.
//
//   node --require standins.js require_driver.js PACKAGE_DIR SETTLE_MS
//
// The entry points are what a consumer of the package would load: `main` (index.js by
// default, as require(PACKAGE_DIR) resolves it) and every file the root of its `exports`
// map names under the conditions node uses (node, import, require, default), so the ES
// build of a dual package runs too. CommonJS files are require()d, ES modules (`.mjs`,
// `"type": "module"`) loaded with import(). One `packguard:`
// line per entry goes to stderr. Timers the package set get the settle window after the
// last entry loaded, then the process exits 0 whatever the package did.
'use strict';

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const directory = path.resolve(process.argv[2] || '.');
const settleMs = Number(process.argv[3] || 2000);
const CONDITIONS = new Set(['node', 'import', 'require', 'module-sync', 'default']);
const MAX_ENTRIES = 8;
const MAX_DEPTH = 8;

function report(message) {
  process.stderr.write(`packguard: ${String(message).slice(0, 500)}\n`);
}

function readManifest() {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8'));
    return manifest && typeof manifest === 'object' ? manifest : {};
  } catch (error) {
    return {};
  }
}

// The `.` entry of an exports map: a string, an array of fallbacks, a conditions object,
// or a subpath map holding ".".
function rootExport(exports) {
  if (exports && typeof exports === 'object' && !Array.isArray(exports)) {
    const keys = Object.keys(exports);
    if (keys.some((key) => key.startsWith('.'))) return exports['.'];
  }
  return exports;
}

function exportTargets(value, found, depth = 0) {
  if (depth > MAX_DEPTH || found.length >= MAX_ENTRIES) return found;
  if (typeof value === 'string') {
    found.push(value);
  } else if (Array.isArray(value)) {
    value.forEach((item) => exportTargets(item, found, depth + 1));
  } else if (value && typeof value === 'object') {
    for (const [condition, inner] of Object.entries(value)) {
      if (CONDITIONS.has(condition)) exportTargets(inner, found, depth + 1);
    }
  }
  return found;
}

// Existing files inside the package only: an exports target is the package's word.
function insidePackage(target) {
  if (typeof target !== 'string' || !target.startsWith('./')) return null;
  const resolved = path.resolve(directory, target);
  if (!resolved.startsWith(directory + path.sep)) return null;
  try {
    return fs.statSync(resolved).isFile() ? resolved : null;
  } catch (error) {
    return null;
  }
}

function entryPoints() {
  const entries = [];
  try {
    entries.push(require.resolve(directory));
  } catch (error) {
    // no main and no index.js: only the exports map may name entries
  }
  const targets = exportTargets(rootExport(readManifest().exports), []);
  for (const file of targets.map(insidePackage)) {
    if (file && !entries.includes(file)) entries.push(file);
  }
  return entries.slice(0, MAX_ENTRIES);
}

// What node would load `file` as: the extension, else the nearest package.json's "type".
function isEsModule(file) {
  if (file.endsWith('.mjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); dir.startsWith(directory); dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      return Boolean(manifest) && manifest.type === 'module';
    } catch (error) {
      if (error && error.code !== 'ENOENT') return false;
    }
    if (dir === directory) break;
  }
  return false;
}

async function load(entry) {
  // import(), not require(), for ES modules even where node can require() them: only
  // the ES loader runs the stand-in hooks of standins_esm.mjs.
  if (!isEsModule(entry)) {
    try {
      require(entry);
      report(`required ${entry}`);
      return;
    } catch (error) {
      if (!error || error.code !== 'ERR_REQUIRE_ESM') {
        report(`require ${entry} failed: ${error && error.stack}`);
        return;
      }
    }
  }
  try {
    await import(pathToFileURL(entry).href);
    report(`imported ${entry}`);
  } catch (error) {
    report(`import ${entry} failed: ${error && error.stack}`);
  }
}

async function main() {
  const entries = entryPoints();
  if (entries.length === 0) {
    report(`no entry point in ${directory} (no main, index.js or exports)`);
  }
  for (const entry of entries) {
    await load(entry);
  }
  setTimeout(() => process.exit(0), settleMs).unref();
}

process.on('uncaughtException', (error) => report(`uncaught: ${error && error.stack}`));
process.on('unhandledRejection', (error) => report(`unhandled rejection: ${error}`));
main();
