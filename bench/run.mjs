// `npm run bench`: runs bench/main.ts through tsx (no build step). See bench/README.md.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
// The engine yields on an unref'd MessageChannel between jobs; keep Node alive until the run ends.
const keepAlive = setInterval(() => undefined, 1 << 30);
try {
  await main(process.argv.slice(2));
} finally {
  clearInterval(keepAlive);
}
