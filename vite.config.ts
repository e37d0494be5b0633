import { defineConfig } from 'vitest/config';

// Cross-origin isolation gives the page SharedArrayBuffer, so ORT's wasm backend can use threads.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  // Test hooks (simulated worker crash, window.__rclip) exist in the demo app and the tests only; vite.lib.config.ts sets false.
  define: { __RCLIP_TEST_HOOKS__: 'true' },
  build: { target: 'es2022', sourcemap: true },
  // onnxruntime-web ships its own wasm loader; pre-bundling it would move the .mjs away from its .wasm.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // In Node only onnxruntime-web's root entry runs (wasm); the /webgpu entry needs a browser.
    alias: { 'onnxruntime-web/webgpu': 'onnxruntime-web' },
  },
});
