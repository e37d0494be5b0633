import { cpSync } from 'node:fs';
import { defineConfig } from 'vite';
import app from './vite.config.ts';

// The library: dist/rclip-element.js (the one-script embed) and dist/rclip-web.js (createMetric),
// written next to the demo app's build in dist/, with the worker and ORT's wasm in dist/assets/.
export default defineConfig({
  server: app.server,
  preview: app.preview,
  worker: { format: 'es' },
  publicDir: false,
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    // Not library mode: that inlines every asset, and ORT's 27 MB wasm would land in the worker as base64.
    rollupOptions: {
      input: { 'rclip-element': 'src/element/index.ts', 'rclip-web': 'src/index.ts' },
      preserveEntrySignatures: 'exports-only',
      output: { entryFileNames: '[name].js', format: 'es' },
    },
  },
  plugins: [
    {
      name: 'copy-examples',
      closeBundle() {
        cpSync('examples', 'dist/examples', { recursive: true });
      },
    },
  ],
});
