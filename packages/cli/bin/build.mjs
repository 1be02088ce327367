// Bundles the CLI's TypeScript (its own sources and the workspace packages it imports) into
// plain ES modules with esbuild, so `crm` starts without transpiling on every call. Only the
// launcher (crm.mjs) imports this, and only when a source changed since the last build.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

/**
 * One bundle per build in its own folder, so a `crm` still running from the previous one is undisturbed.
 * @param {{ cli: string, root: string, lockHash: string }} where the CLI package, the repository, the lockfile's hash
 * @returns {Promise<string>} the bundle's entry file
 */
export async function buildCli({ cli, root, lockHash }) {
  const dist = join(cli, 'dist');
  const outdir = join(dist, `build-${Date.now()}-${process.pid}`);
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { crm: join(cli, 'src/main.ts') },
    outdir,
    bundle: true,
    // What main.ts imports on use becomes chunks loaded on use, with their libraries: `crm --help` loads none.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    metafile: true,
    logLevel: 'error',
    plugins: [librariesInPlace(outdir), sourceLocations(outdir, root)],
  }).catch((error) => {
    rmSync(outdir, { recursive: true, force: true });
    // esbuild has printed what it could not build, with file and line.
    process.stderr.write(`crm: the CLI could not be built from packages/cli/src: ${error.message.split('\n')[0]}\n`);
    process.exit(1);
  });
  /** @type {Record<string, number>} */
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs).map((f) => resolve(root, f)), join(cli, 'bin/build.mjs')]) {
    inputs[file] = statSync(file).mtimeMs;
  }
  const manifest = { entry: join(outdir, 'crm.js'), lockHash, inputs };
  const temporary = join(dist, `build.json.${process.pid}`);
  writeFileSync(temporary, JSON.stringify(manifest));
  renameSync(temporary, join(dist, 'build.json'));
  removeOldBuilds(dist, outdir);
  return manifest.entry;
}

/**
 * Third-party packages stay outside the bundle, imported from the exact file esbuild resolved
 * (pnpm keeps each package's dependencies next to it, not next to the bundle). Modules count as
 * free of side effects (ours have none at import), so an import whose exports go unused is dropped.
 */
/**
 * @param {string} outdir
 * @returns {import('esbuild').Plugin}
 */
function librariesInPlace(outdir) {
  return {
    name: 'libraries-in-place',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.path.startsWith('node:') || args.pluginData === 'resolving') return undefined;
        const found = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'resolving' });
        if (found.errors.length > 0) return { errors: found.errors };
        if (found.external || !found.path.includes('/node_modules/.pnpm/')) return { ...found, sideEffects: false };
        const path = relative(outdir, found.path);
        return { path: path.startsWith('.') ? path : `./${path}`, external: true, sideEffects: false };
      });
    },
  };
}

/**
 * Our modules find the repository's files (migrations, schemas, the services `crm up` starts)
 * from their own location; in the bundle `import.meta.url` is the chunk's, so each source's
 * is pointed back at where that source lives, relative to the bundle so a moved clone still works.
 */
/**
 * @param {string} outdir
 * @param {string} root
 * @returns {import('esbuild').Plugin}
 */
function sourceLocations(outdir, root) {
  return {
    name: 'source-locations',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes('/node_modules/') || !args.path.startsWith(root)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const own = `new URL(${JSON.stringify(relative(outdir, args.path))}, import.meta.url).href`;
        return { contents: source.replaceAll('import.meta.url', own), loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
}

/**
 * @param {string} dist
 * @param {string} keep
 */
function removeOldBuilds(dist, keep) {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of readdirSync(dist)) {
    const dir = join(dist, name);
    if (!name.startsWith('build-') || dir === keep) continue;
    try {
      if (statSync(dir).mtimeMs < hourAgo) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another crm removed it first
    }
  }
}
