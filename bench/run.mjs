// `npm run bench`: runs bench/main.ts (or, with --suite, bench/suite/main.ts) through tsx (no build step). See bench/README.md.
import { register } from 'tsx/esm/api';

register();
const args = process.argv.slice(2);
if (args.includes('--suite')) await (await import('./suite/main.ts')).suiteMain(args);
else await (await import('./main.ts')).main(args);
