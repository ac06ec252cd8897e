import { defineConfig } from 'vitest/config';

// The `source` export condition points workspace packages at their TypeScript sources,
// so tests never run a stale build. Node-side tests resolve through the SSR settings.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Starts one PostgreSQL cluster for the run when PARLEY_TEST_STORAGE=postgres; does nothing otherwise.
    globalSetup: ['test/support/postgres-setup.ts'],
  },
});
