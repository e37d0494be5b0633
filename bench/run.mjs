// `npm run bench`: runs bench/main.ts through tsx (no build step). See bench/README.md.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
await main(process.argv.slice(2));
