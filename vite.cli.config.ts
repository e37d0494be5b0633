import { defineConfig } from 'vite';

/**
 * The rclip command as JavaScript for Node (dist/cli/main.js, run by bin/rclip.mjs in an installed
 * package). Packages stay imports: onnxruntime-node, sharp and bmp-ts (and usearch, parquet-wasm,
 * apache-arrow for the embedding store) are the package's optional dependencies, loaded only by the
 * commands that need them.
 */
export default defineConfig({
  publicDir: false,
  build: {
    ssr: 'src/cli/main.ts',
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: false,
    minify: false,
    rollupOptions: { output: { format: 'es', entryFileNames: 'main.js', chunkFileNames: '[name].js' } },
  },
});
