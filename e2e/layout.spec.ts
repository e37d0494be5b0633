/**
 * The page's layout in real Chromium at phone and desktop widths, light and dark: nothing scrolls
 * sideways, and no two visible controls of a form or drop zone overlap (the attack form's Objective
 * select once covered Method). Checked with results on screen (a comparison, the blocklist's table and
 * listed entries) and with each of the attack form's optional fields shown.
 */
import { expect, test, type Page } from '@playwright/test';

test.beforeEach(({}, testInfo) => test.skip(testInfo.project.name !== 'wasm', 'layout does not depend on the EP'));

async function openWithResults(page: Page) {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
  await page.locator('#zone-a button[data-sample="cat.jpg"]').click();
  await page.locator('#zone-b button[data-sample="cat-cropped.jpg"]').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.locator('#blocklist-panel .listed li')).toHaveCount(2, { timeout: 60_000 });
  await page.locator('#blocklist-panel .upload-samples button[data-sample="cat-cropped.jpg"]').click();
  await expect(page.locator('#blocklist-panel')).toHaveAttribute('data-state', 'matched', { timeout: 60_000 });
}

/** Horizontal overflow of the document in CSS pixels (> 0: the page scrolls sideways). */
const sidewaysOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/**
 * Pairs of visible controls (buttons, inputs, selects, labels, sample buttons) that overlap inside one
 * container, by bounding box; a control nested in another (a select inside its label) is not a pair.
 */
function overlappingControls(page: Page) {
  return page.evaluate(() => {
    const containers = document.querySelectorAll('form, .zone, .samples');
    const found: string[] = [];
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    containers.forEach((container, c) => {
      const controls = [...container.querySelectorAll('button, input, select, label')].filter((el) => {
        const r = el.getBoundingClientRect();
        // Visually hidden file inputs (1×1 px, clipped) are reached through their label.
        return r.width > 2 && r.height > 2 && getComputedStyle(el).visibility !== 'hidden';
      });
      for (let i = 0; i < controls.length; i++) {
        for (let j = i + 1; j < controls.length; j++) {
          const [a, b] = [controls[i], controls[j]];
          if (a.contains(b) || b.contains(a)) continue;
          const ra = a.getBoundingClientRect();
          const rb = b.getBoundingClientRect();
          // Half a pixel of slack for sub-pixel rounding of touching edges.
          const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
          const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
          if (w > 0.5 && h > 0.5) found.push(`container ${c} (${container.className || container.tagName}): ${describe(a)} overlaps ${describe(b)} by ${w.toFixed(1)}×${h.toFixed(1)} px`);
        }
      }
    });
    return found;
  });
}

for (const width of [375, 1280]) {
  for (const colorScheme of ['light', 'dark'] as const) {
    test(`${width} px, ${colorScheme}: no sideways scroll and no overlapping controls`, async ({ page }) => {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme });
      await openWithResults(page);
      expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(colorScheme === 'dark');
      const attack = page.locator('#attack-panel');
      // Each optional field of the attack form in turn: PGD/L∞ (default), APGD (restarts, its step rule), L2 (ε in pixel units).
      for (const [method, norm] of [['pgd', 'linf'], ['apgd', 'linf'], ['pgd', 'l2']]) {
        await attack.locator('select[name="method"]').selectOption(method);
        await attack.locator('select[name="norm"]').selectOption(norm);
        expect(await sidewaysOverflow(page), `${method}/${norm}: the page scrolls sideways`).toBeLessThanOrEqual(0);
        expect(await overlappingControls(page), `${method}/${norm}`).toEqual([]);
      }
    });
  }
}

test('360 px, the narrowest supported width: no sideways scroll', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await openWithResults(page);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  expect(await overlappingControls(page)).toEqual([]);
});

test('disabled buttons look disabled: greyed, not-allowed cursor, unlike the enabled Run button', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
  const style = (selector: string) =>
    page.locator(selector).evaluate((el) => {
      const s = getComputedStyle(el);
      return { cursor: s.cursor, background: s.backgroundColor, color: s.color };
    });
  // Before an upload is chosen Evade is disabled; Cancel is disabled with nothing running.
  await expect(page.locator('#blocklist-panel .evade')).toBeDisabled();
  const evade = await style('#blocklist-panel .evade');
  const cancel = await style('#attack-panel .cancel');
  const run = await style('#attack-panel .run');
  expect(evade.cursor).toBe('not-allowed');
  expect(cancel.cursor).toBe('not-allowed');
  expect(run.cursor).toBe('pointer');
  expect(evade.background, 'disabled Evade must not share the enabled primary button\'s colour').not.toBe(run.background);
  expect(evade.color).not.toBe(run.color);
});
