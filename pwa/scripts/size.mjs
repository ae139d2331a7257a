// Prints the gzipped size of every JS and CSS file the build ships (the app and the service
// worker) and the total, and fails when the total passes the budget. Run after `npm run build`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 150 * 1024;
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

let raw = 0;
let gz = 0;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);
for (const path of files) {
  const data = readFileSync(path);
  const zipped = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += zipped;
  console.log(`${kb(data.length)} ${kb(zipped)} gz  ${relative(dist, path)}`);
}
console.log(`${kb(raw)} ${kb(gz)} gz  total JS+CSS (budget ${kb(BUDGET).trim()} gz)`);
if (gz > BUDGET) {
  console.error('over budget');
  process.exit(1);
}
