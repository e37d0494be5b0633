import { defineConfig } from 'vite';

/**
 * The rclip command as JavaScript for Node (dist/cli/main.js, run by bin/rclip.mjs in an installed
 * package), and the decode worker thread it starts (dist/cli/node-decode-worker.js, found beside the
 * chunk that loads it: src/engine/node-decode-pool.ts). Packages stay imports: onnxruntime-node,
 * sharp and bmp-ts (and parquet-wasm, apache-arrow for the embedding store) are the package's
 * optional dependencies, loaded only by the commands that need them. usearch (the store's index) is a
 * plain dependency: its engines field asks for Node 22, and npm silently skips an optional dependency
 * whose engines exclude the running Node (it installs a plain one with a warning, and it works on 20).
 */
export default defineConfig({
  publicDir: false,
  build: {
    ssr: true,
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: false,
    minify: false,
    rollupOptions: {
      input: { main: 'src/cli/main.ts', 'node-decode-worker': 'src/engine/node-decode-worker.ts' },
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name].js' },
    },
  },
});
