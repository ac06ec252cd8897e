import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The server's HTTP listener; `npm run dev -w @parley/web` proxies the connection and the API to it.
const SERVER = process.env.PARLEY_DEV_SERVER ?? 'http://localhost:5280';

export default defineConfig({
  plugins: [vue()],
  // vue-i18n's feature flags: the client uses the Composition API only, so the legacy API is
  // left out of the bundle, and the dev server stops warning that the flags are unset.
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
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
