// Preloaded into the Parley server process by the benchmark (node --import). When the
// process has an IPC channel, it replies to the message "memory" with the V8 heap in use,
// so the benchmark can report it next to the RSS. It changes nothing else.
import process from 'node:process';
import { getHeapStatistics } from 'node:v8';

if (process.send) {
  process.on('message', (message) => {
    if (message !== 'memory') return;
    // getHeapStatistics opens no file, unlike process.memoryUsage(), which reads
    // /proc/self/stat and throws EMFILE when the server has used up its descriptors.
    try {
      process.send({ heapUsedBytes: getHeapStatistics().used_heap_size });
    } catch {
      // The benchmark then reports no heap figure; the server must not stop over it.
    }
  });
  // The channel must not keep a stopping server alive.
  process.channel?.unref();
}
