// ES module resolve hook of the Node.js function runtime, registered by bootstrap.mjs with
// module.register(). Lambda's Node.js runtimes find bare specifiers imported from ES modules
// in the NODE_PATH folders too (that is how functions import the bundled AWS SDK); plain
// Node.js searches NODE_PATH for require() only. Default resolution runs first, so the
// function's own node_modules always wins; a bare specifier it cannot find is retried from
// each NODE_PATH folder in order.
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

let folders = [];

// data.nodePath: the NODE_PATH value, folders separated by path.delimiter.
export async function initialize(data) {
  folders = String(data?.nodePath ?? '')
    .split(path.delimiter)
    .filter((folder) => folder && path.isAbsolute(folder));
}

// Relative, absolute, URL, builtin ("node:fs") and package-internal ("#x") specifiers are not bare.
function isBare(specifier) {
  return !/^(\.{0,2}\/|#|[a-zA-Z][a-zA-Z\d+.-]*:)/.test(specifier) && specifier !== '.' && specifier !== '..';
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier) || folders.length === 0) throw error;
    for (const folder of folders) {
      const found = await resolveFrom(folder, specifier, context, nextResolve);
      if (found) return found;
    }
    throw error;
  }
}

async function resolveFrom(folder, specifier, context, nextResolve) {
  if (path.basename(folder) === 'node_modules') {
    // Resolving as if imported from a file beside the folder searches <folder>/<package>
    // first, with the "import" conditions and the package's "exports" as usual.
    const parentURL = pathToFileURL(path.join(path.dirname(folder), 'noop.mjs')).href;
    try {
      return await nextResolve(specifier, { ...context, parentURL });
    } catch {
      return null;
    }
  }
  // A folder of another name holds packages directly, as NODE_PATH folders do for require().
  try {
    const file = createRequire(path.join(folder, 'noop.js')).resolve(specifier, { paths: [folder] });
    return await nextResolve(pathToFileURL(file).href, context);
  } catch {
    return null;
  }
}
