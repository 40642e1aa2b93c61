// Inert stand-ins for a package's missing dependencies, so its own code paths still run.
//
// Loaded into every node process of a phase with NODE_OPTIONS="--require <this file>".
// When require() of a bare name (or of a native `.node` addon that was never built) fails
// with MODULE_NOT_FOUND, and the requiring file lives under one of the package roots
// (PACKGUARD_STANDIN_ROOTS, ':'-separated), a permissive dummy is returned instead and its
// name appended to PACKGUARD_STANDIN_LOG. Node's built-ins are never stood in for.
// ES modules get the same through the loader hooks of standins_esm.mjs, registered here.
'use strict';

const Module = require('module');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const roots = (process.env.PACKGUARD_STANDIN_ROOTS || '')
  .split(path.delimiter)
  .filter(Boolean)
  .map((root) => path.resolve(root) + path.sep);
const logPath = process.env.PACKGUARD_STANDIN_LOG;

function isUnderRoots(filename) {
  return typeof filename === 'string' && roots.some((root) => filename.startsWith(root));
}

function isStandInCandidate(request) {
  if (typeof request !== 'string' || request.startsWith('node:') || Module.isBuiltin(request)) {
    return false;
  }
  const relative = request.startsWith('.') || request.startsWith('/');
  return !relative || request.endsWith('.node');
}

function record(name) {
  if (!logPath) return;
  try {
    fs.appendFileSync(logPath, name + '\n');
  } catch (error) {
    // the log is best effort
  }
}

function standIn(name) {
  const children = new Map();
  const target = function standIn() {};
  const proxy = new Proxy(target, {
    get(object, property) {
      if (property === 'then') return undefined; // not a thenable: `await` gets the proxy
      if (property === Symbol.toPrimitive) return () => '';
      if (property === Symbol.iterator) return function* empty() {};
      if (property === 'toString' || property === 'valueOf' || property === 'toJSON') {
        return () => '';
      }
      if (property === '__esModule') return false;
      if (property === 'prototype') return object.prototype;
      if (typeof property === 'symbol') return undefined;
      if (!children.has(property)) children.set(property, standIn(`${name}.${property}`));
      return children.get(property);
    },
    set() {
      return true;
    },
    has() {
      return false;
    },
    apply() {
      return standIn(`${name}()`);
    },
    construct() {
      return standIn(`new ${name}`);
    },
  });
  return proxy;
}

if (roots.length > 0) {
  // The ES-module hooks build their stand-ins with this factory, on this thread.
  Object.defineProperty(globalThis, Symbol.for('packguard.standIn'), { value: standIn });
  if (typeof Module.register === 'function') {
    const hooks = pathToFileURL(path.join(__dirname, 'standins_esm.mjs')).href;
    Module.register(hooks, { data: { roots, log: logPath } });
  }
  const load = Module._load;
  Module._load = function loadOrStandIn(request, parent, isMain) {
    try {
      return load.call(this, request, parent, isMain);
    } catch (error) {
      const missing =
        error &&
        error.code === 'MODULE_NOT_FOUND' &&
        String(error.message).includes(`'${request}'`) &&
        isStandInCandidate(request) &&
        isUnderRoots(parent && parent.filename);
      if (!missing) throw error;
      record(request);
      return standIn(request);
    }
  };
}
