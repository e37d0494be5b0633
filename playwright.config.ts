import { defineConfig } from '@playwright/test';

// Debian's Chromium: Playwright cannot download its own browsers here. Without the
// background-networking flags Chromium floods the closed network with refused connections.
const chromiumArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// RCLIP_E2E_PORT: another port when several checkouts test at once (reuseExistingServer would pick up theirs).
const PORT = Number(process.env.RCLIP_E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  // One worker: two cores, and SwiftShader WebGPU is slow; parallel browsers only thrash.
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
  projects: [
    {
      name: 'webgpu',
      use: { browserName: 'chromium', launchOptions: { executablePath: '/usr/bin/chromium', args: [...chromiumArgs, '--enable-unsafe-webgpu'] } },
    },
    {
      name: 'wasm',
      use: { browserName: 'chromium', launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs } },
    },
  ],
});
