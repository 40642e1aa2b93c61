// The ES-module half of the stand-ins: resolve/load hooks that standins.js registers with
// module.register() (node >= 18.19) in every node process of a phase.
//
// An `import` of a bare name that does not resolve, made by a module under one of the
// package roots, resolves to a generated module instead: its default export and every
// name the importing file asks for (`import { a, b as c } from 'x'`, `export { a } from
// 'x'`) are the same permissive stand-ins standins.js hands to require(). ES modules link
// before any of their code runs, so without this one missing dependency would stop the
// whole package from loading. The hooks run on node's loader thread; the generated module
// runs on the main one, where standins.js left its stand-in factory on globalThis.
import { appendFileSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';

const SCHEME = 'packguard-standin:';
const FACTORY = 'packguard.standIn';
const MAX_SOURCE_BYTES = 4 << 20;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

let roots = [];
let logPath;

export function initialize(data) {
  roots = (data && data.roots) || [];
  logPath = data && data.log;
}

function isUnderRoots(parentURL) {
  if (typeof parentURL !== 'string' || !parentURL.startsWith('file:')) return false;
  const filename = fileURLToPath(parentURL);
  return roots.some((root) => filename.startsWith(root));
}

function isBareName(specifier) {
  if (isBuiltin(specifier) || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return false;
  return !specifier.startsWith('.') && !specifier.startsWith('/');
}

function record(name) {
  if (!logPath) return;
  try {
    appendFileSync(logPath, name + '\n');
  } catch (error) {
    // the log is best effort
  }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The names `parentURL` imports from `specifier`, read from its source: a static import
// of a name the stand-in module does not export would fail to link.
export function importedNames(source, specifier) {
  const quoted = escapeRegExp(specifier);
  const statement = new RegExp(
    `\\b(?:import|export)\\s+(?:type\\s+)?([^;'"\`]*?)\\s*\\bfrom\\s*(['"])${quoted}\\2`,
    'g',
  );
  const names = new Set();
  for (const match of source.matchAll(statement)) {
    const braces = /\{([^}]*)\}/.exec(match[1]);
    if (!braces) continue;
    for (const item of braces[1].split(',')) {
      const name = item.trim().split(/\s+as\s+/)[0].trim();
      if (IDENTIFIER.test(name) && name !== 'default') names.add(name);
    }
  }
  return [...names];
}

function namesFor(parentURL, specifier) {
  try {
    const source = readFileSync(fileURLToPath(parentURL), 'utf8');
    return source.length > MAX_SOURCE_BYTES ? [] : importedNames(source, specifier);
  } catch (error) {
    return [];
  }
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const missing =
      error &&
      error.code === 'ERR_MODULE_NOT_FOUND' &&
      isBareName(specifier) &&
      isUnderRoots(context.parentURL);
    if (!missing) throw error;
    record(specifier);
    const names = namesFor(context.parentURL, specifier);
    const query = new URLSearchParams({ name: specifier, names: names.join(',') });
    return { url: `${SCHEME}?${query}`, shortCircuit: true };
  }
}

export function standInSource(name, names) {
  const lines = [
    `const make = globalThis[Symbol.for(${JSON.stringify(FACTORY)})];`,
    `const value = make ? make(${JSON.stringify(name)}) : {};`,
    'export default value;',
  ];
  names.forEach((exported, index) => {
    lines.push(`const n${index} = value[${JSON.stringify(exported)}];`);
    lines.push(`export { n${index} as ${exported} };`);
  });
  return lines.join('\n') + '\n';
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith(SCHEME)) return nextLoad(url, context);
  const query = new URLSearchParams(url.slice(SCHEME.length + 1));
  const names = (query.get('names') || '').split(',').filter((name) => IDENTIFIER.test(name));
  const source = standInSource(query.get('name') || 'stand-in', names);
  return { format: 'module', source, shortCircuit: true };
}
