// Prints the gzipped size of every JS and CSS file the build ships (the app and the service
// worker) and the totals, and fails when one passes its budget. The app shell (everything loaded
// at start, and the service worker) has one budget; the maps' chunks (Leaflet and the base layer,
// loaded only when a map screen opens) have their own. Run after `npm run build`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGETS = [
  { name: 'app shell', budget: 150 * 1024, match: () => true },
  // Leaflet and the base layer (a chunk the coverage map and the rep's map share), and each map's own code.
  { name: 'maps (lazy)', budget: 60 * 1024, match: (path) => /^assets\/(coverage-map|rep-map|basemap)-[^/]+\.(m?js|css)$/.test(path) },
  { name: 'selling screens (lazy)', budget: 40 * 1024, match: (path) => /^assets\/sales-screens-[^/]+\.(m?js|css)$/.test(path) },
];
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

let files;
try {
  files = [...walk(dist)].filter((p) => /\.(m?js|css)$/.test(p)).sort();
} catch {
  console.error('no dist/: run `npm run build` first');
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);
const totals = BUDGETS.map(() => ({ raw: 0, gz: 0 }));
let raw = 0;
let gz = 0;
for (const path of files) {
  const rel = relative(dist, path).split('\\').join('/');
  const data = readFileSync(path);
  const zipped = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += zipped;
  // The most specific budget that matches (the last one listed).
  const index = BUDGETS.findLastIndex((b) => b.match(rel));
  totals[index].raw += data.length;
  totals[index].gz += zipped;
  console.log(`${kb(data.length)} ${kb(zipped)} gz  ${rel}${index > 0 ? `  [${BUDGETS[index].name}]` : ''}`);
}
let over = false;
BUDGETS.forEach((b, i) => {
  console.log(`${kb(totals[i].raw)} ${kb(totals[i].gz)} gz  ${b.name} (budget ${kb(b.budget).trim()} gz)`);
  if (totals[i].gz > b.budget) {
    console.error(`${b.name}: over budget`);
    over = true;
  }
});
console.log(`${kb(raw)} ${kb(gz)} gz  everything`);
if (over) process.exit(1);
