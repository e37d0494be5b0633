import type { Locator, Page, TestInfo } from '@playwright/test';

/** Saves a screenshot as a file under test-results/e2e/<test>/ (kept after the run) and attaches it to the report. */
export async function saveScreenshot(testInfo: TestInfo, name: string, target: Page | Locator, fullPage = false): Promise<void> {
  const path = testInfo.outputPath(name);
  await target.screenshot({ path, ...(fullPage ? { fullPage } : {}) });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}
