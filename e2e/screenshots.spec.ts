/**
 * Regenerates docs/screenshots/: each panel of the demo page with results on screen, light and dark,
 * at 375 and 1280 px wide. Skipped unless asked for, so the ordinary suite leaves the committed files alone:
 *
 *   npm run build && RCLIP_SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts --project=wasm
 *
 * One run fills every panel (a comparison, a short attack, a blocklist match and Evade, an inversion),
 * then each width and colour scheme is applied to the same page and each panel shot alone; the PNGs are
 * re-encoded with a 256-colour palette (sharp) to keep the repository small.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const out = path.resolve(import.meta.dirname, '../docs/screenshots');

test.skip(!process.env.RCLIP_SCREENSHOTS, 'set RCLIP_SCREENSHOTS=1 to regenerate docs/screenshots/');
test.beforeEach(({}, testInfo) => test.skip(testInfo.project.name !== 'wasm', 'screenshots come from the wasm project'));
test.setTimeout(900_000);

async function fillEveryPanel(page: Page) {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
  await page.locator('#zone-a button[data-sample="cat.jpg"]').click();
  await page.locator('#zone-b button[data-sample="cat-cropped.jpg"]').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });

  const attack = page.locator('#attack-panel');
  await attack.locator('input[name="steps"]').fill('5');
  await attack.locator('.run').click();
  await expect(attack).toHaveAttribute('data-state', 'done', { timeout: 300_000 });

  const blocklist = page.locator('#blocklist-panel');
  await expect(blocklist.locator('.listed li')).toHaveCount(2, { timeout: 120_000 });
  await blocklist.locator('.upload-samples button[data-sample="cat-cropped.jpg"]').click();
  await expect(blocklist).toHaveAttribute('data-state', 'matched', { timeout: 120_000 });
  await blocklist.locator('input[name="steps"]').fill('3');
  await blocklist.locator('input[name="queries"]').fill('200');
  await blocklist.locator('.evade').click();
  await expect(blocklist).toHaveAttribute('data-state', 'evaded', { timeout: 300_000 });

  const inversion = page.locator('#inversion-panel');
  await inversion.locator('select[name="target"]').selectOption('image-a');
  await inversion.locator('input[name="steps"]').fill('15');
  await inversion.locator('.run').click();
  await expect(inversion).toHaveAttribute('data-state', 'done', { timeout: 300_000 });
}

async function shoot(target: Locator, file: string) {
  const png = await target.screenshot({ animations: 'disabled' });
  await sharp(png).png({ palette: true, colours: 256, compressionLevel: 9 }).toFile(path.join(out, file));
}

test('screenshots of each panel, light and dark, 375 and 1280 px wide', async ({ page }) => {
  mkdirSync(out, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await fillEveryPanel(page);
  const panels: Record<string, Locator> = {
    // The comparison is the header, the two drop zones and the result card: one region from the top.
    compare: page.locator('header.top, section.pair, section.result'),
    attack: page.locator('#attack-panel'),
    blocklist: page.locator('#blocklist-panel'),
    inversion: page.locator('#inversion-panel'),
  };
  for (const width of [375, 1280]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme });
      for (const [name, locator] of Object.entries(panels)) {
        if (name === 'compare') await shootRegion(page, locator, `${name}-${colorScheme}-${width}.png`);
        else await shoot(locator, `${name}-${colorScheme}-${width}.png`);
      }
    }
  }
});

/** Several elements as one picture: the page clipped to the union of their boxes. */
async function shootRegion(page: Page, parts: Locator, file: string) {
  const boxes = await parts.evaluateAll((els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left + scrollX, top: r.top + scrollY, right: r.right + scrollX, bottom: r.bottom + scrollY };
    }),
  );
  const left = Math.min(...boxes.map((b) => b.left)) - 8;
  const top = Math.max(0, Math.min(...boxes.map((b) => b.top)) - 8);
  const clip = { x: Math.max(0, left), y: top, width: Math.max(...boxes.map((b) => b.right)) - left + 8, height: Math.max(...boxes.map((b) => b.bottom)) - top + 8 };
  const png = await page.screenshot({ clip, fullPage: true, animations: 'disabled' });
  await sharp(png).png({ palette: true, colours: 256, compressionLevel: 9 }).toFile(path.join(out, file));
}
