// The require phase's program: load a package's entry point, in its own node.
//
//   node --require standins.js require_driver.js PACKAGE_DIR SETTLE_MS
//
// require() resolves the package's `main` (index.js by default); an ES module falls back
// to import(). One `packguard:` line goes to stderr. Timers the package set get the settle
// window, then the process exits 0 whatever the package did.
'use strict';

const path = require('path');
const { pathToFileURL } = require('url');

const directory = path.resolve(process.argv[2] || '.');
const settleMs = Number(process.argv[3] || 2000);

function report(message) {
  process.stderr.write(`packguard: ${String(message).slice(0, 500)}\n`);
}

process.on('uncaughtException', (error) => report(`uncaught: ${error && error.stack}`));
process.on('unhandledRejection', (error) => report(`unhandled rejection: ${error}`));
setTimeout(() => process.exit(0), settleMs).unref();

try {
  require(directory);
  report(`required ${directory}`);
} catch (error) {
  if (error && error.code === 'ERR_REQUIRE_ESM') {
    let entry = directory;
    try {
      entry = require.resolve(directory);
    } catch (resolveError) {
      report(`cannot resolve ${directory}: ${resolveError}`);
    }
    import(pathToFileURL(entry).href).then(
      () => report(`imported ${entry}`),
      (importError) => report(`import ${entry} failed: ${importError}`),
    );
  } else {
    report(`require ${directory} failed: ${error && error.stack}`);
  }
}
