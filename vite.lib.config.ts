import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import app from './vite.config.ts';

/**
 * The library, in dist/lib/: rclip-element.js (the one-script embed), rclip-web.js (createMetric),
 * the worker and ORT's wasm beside them under fixed names. base './' makes every asset URL relative
 * to the script that loads it (new URL('rclip.worker.js', import.meta.url)), so the folder works
 * wherever it is served, and bundlers (Vite, webpack 5) that follow `new Worker(new URL(…))` pick the
 * worker up and its wasm with it.
 */
export default defineConfig({
  base: './',
  server: app.server,
  preview: app.preview,
  worker: {
    format: 'es',
    rollupOptions: { output: { entryFileNames: '[name].js', assetFileNames: '[name][extname]' } },
  },
  publicDir: false,
  // No test hooks in the shipped library (src/env.d.ts).
  define: { __RCLIP_TEST_HOOKS__: 'false' },
  build: {
    target: 'es2022',
    outDir: 'dist/lib',
    emptyOutDir: true,
    // No source maps in the package: the worker's (ORT inside) alone is 400 kB.
    sourcemap: false,
    // Not library mode: that inlines every asset, and ORT's 27 MB wasm would land in the worker as base64.
    rollupOptions: {
      input: { 'rclip-element': 'src/element/index.ts', 'rclip-web': 'src/index.ts' },
      preserveEntrySignatures: 'exports-only',
      output: { entryFileNames: '[name].js', chunkFileNames: '[name].js', assetFileNames: '[name][extname]', format: 'es' },
    },
  },
  plugins: [
    {
      // With base './', Vite writes new URL(new URL(`x`, import.meta.url).href, '' + import.meta.url):
      // right in a browser, but bundlers only follow the plain new URL('./x', import.meta.url) form
      // (and new Worker(new URL(…), { type: 'module' }) with literal options). Write that form.
      name: 'plain-asset-urls',
      closeBundle() {
        for (const file of readdirSync('dist/lib').filter((f) => f.endsWith('.js'))) {
          const code = readFileSync(`dist/lib/${file}`, 'utf8');
          const plain = code
            .replace(/new URL\(new URL\(`([^`$]+)`,import\.meta\.url\)\.href,``\+import\.meta\.url\)/g, 'new URL("./$1",import.meta.url)')
            .replace(/\{type:`module`,name:`rclip`\}/g, '{type:"module",name:"rclip"}')
            // ORT's own proxy-worker URL (a file the bundle does not use here): tell consumers' Vite not to look for it.
            .replace(/new URL\(`ort\.webgpu\.bundle\.min\.mjs`,import\.meta\.url\)/g, 'new URL(/* @vite-ignore */ `ort.webgpu.bundle.min.mjs`,import.meta.url)');
          if (plain !== code) writeFileSync(`dist/lib/${file}`, plain);
        }
      },
    },
    {
      name: 'copy-examples',
      closeBundle() {
        cpSync('examples', 'dist/examples', { recursive: true });
      },
    },
  ],
});
