import { fillAccount } from './web-data/core.js';
import { timeOpen, timeSearch, timeSignIn } from './web-page.js';

// Bundled by bench/web.ts and added to the web client's page, so that the data lands in the
// IndexedDB of the client's origin and the timers run next to the screens they watch.
(globalThis as unknown as { parleyBench: unknown }).parleyBench = { fillAccount, timeSignIn, timeOpen, timeSearch };
