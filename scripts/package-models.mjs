// The models as the npm package ships them, in dist/lib/models/ (the one copy in the tarball):
// every model in public/models/index.json with its encoder, and the attack graph of the index's
// default (robust) model only, the one createMetric().attack targets by default. Attack graphs of
// the other models stay in the repository (public/models/): they would push the tarball past 25 MB.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const from = path.join(root, 'public/models');
const to = path.join(root, 'dist/lib/models');
const index = JSON.parse(readFileSync(path.join(from, 'index.json'), 'utf8'));
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
cpSync(path.join(from, 'index.json'), path.join(to, 'index.json'));
for (const { id, path: folder } of index.models) {
  const manifest = JSON.parse(readFileSync(path.join(from, folder, 'manifest.json'), 'utf8'));
  mkdirSync(path.join(to, folder), { recursive: true });
  cpSync(path.join(from, folder, manifest.files.encoder.path), path.join(to, folder, manifest.files.encoder.path));
  if (manifest.files.attack && id === index.default) {
    cpSync(path.join(from, folder, manifest.files.attack.path), path.join(to, folder, manifest.files.attack.path));
  } else delete manifest.files.attack;
  writeFileSync(path.join(to, folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
console.log(`package-models: ${index.models.length} model(s) in ${path.relative(root, to)}/ (attack graph: ${index.default} only)`);
