import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { build, defineConfig, type Plugin, type ResolvedConfig, type Rollup } from 'vite';
import vue from '@vitejs/plugin-vue';

// The server's HTTP listener; `npm run dev -w @parley/web` proxies the connection and the API to it.
const SERVER = process.env.PARLEY_DEV_SERVER ?? 'http://localhost:5280';

/** Files of the build that the service worker does not precache: source maps are only for debugging. */
const NOT_PRECACHED = /\.map$/;

/** Lists the files under `folder` as URL paths ('/icons/icon-192.png'), with their contents. */
async function publicFiles(folder: string, prefix = '/'): Promise<{ url: string; content: Buffer }[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const files: { url: string; content: Buffer }[] = [];
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) files.push(...(await publicFiles(full, `${prefix}${entry.name}/`)));
    else if (entry.isFile()) files.push({ url: `${prefix}${entry.name}`, content: await readFile(full) });
  }
  return files;
}

/**
 * Builds src/sw/sw.ts as its own file, /sw.js, because a service worker must stay at a fixed URL.
 * It injects the app shell to precache: every file of this build and of public/, and a version
 * hashed from their contents, so each new build names a new cache.
 */
function serviceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'parley-service-worker',
    apply: 'build',
    enforce: 'post',
    config: () => ({ define: { __PARLEY_SERVICE_WORKER__: 'true' } }),
    configResolved(resolved) {
      config = resolved;
    },
    async generateBundle(_options, bundle) {
      const hash = createHash('sha256');
      const urls: string[] = [];
      for (const item of Object.values(bundle).sort((a, b) => a.fileName.localeCompare(b.fileName))) {
        if (NOT_PRECACHED.test(item.fileName)) continue;
        urls.push(`/${item.fileName}`);
        hash.update(item.fileName).update(item.type === 'chunk' ? item.code : item.source);
      }
      for (const file of config.publicDir ? await publicFiles(config.publicDir) : []) {
        urls.push(file.url);
        hash.update(file.url).update(file.content);
      }
      const precache = { version: hash.digest('hex').slice(0, 16), urls: urls.sort() };
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: await bundleWorker(config, precache) });
    },
  };
}

async function bundleWorker(config: ResolvedConfig, precache: { version: string; urls: string[] }): Promise<string> {
  const output = (await build({
    configFile: false,
    root: config.root,
    mode: config.mode,
    publicDir: false,
    logLevel: 'warn',
    define: { __PARLEY_PRECACHE__: JSON.stringify(precache) },
    build: {
      write: false,
      target: 'es2022',
      minify: config.build.minify,
      sourcemap: false,
      lib: { entry: path.join(config.root, 'src/sw/sw.ts'), formats: ['iife'], name: 'parleyServiceWorker', fileName: () => 'sw.js' },
    },
  })) as Rollup.RollupOutput | Rollup.RollupOutput[];
  const chunk = (Array.isArray(output) ? output[0] : output)?.output.find((item) => item.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('building the service worker produced no script');
  return chunk.code;
}

export default defineConfig({
  plugins: [vue(), serviceWorker()],
  // vue-i18n's feature flags: the client uses the Composition API only, so the legacy API is
  // left out of the bundle, and the dev server stops warning that the flags are unset.
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    // True only in builds, which have /sw.js; the dev server serves none.
    __PARLEY_SERVICE_WORKER__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/xmpp-websocket': { target: SERVER, ws: true, changeOrigin: true },
      '/api': { target: SERVER, changeOrigin: true },
      '/.well-known': { target: SERVER, changeOrigin: true },
    },
  },
});
