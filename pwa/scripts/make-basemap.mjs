// Build public/basemap/china.json: province and prefecture-city boundaries and names for the maps,
// so they need no tile server. Source: the Chinese administrative boundaries that Apache ECharts 4
// ships (node_modules/echarts/map/json/china.json and china-cities.json, a dev dependency only).
// Their coordinates are in ECharts' compact encoding; they are decoded, simplified as one topology
// (neighbours keep a shared border), and written as plain GeoJSON border lines and labelled points.
// The output is committed; run `npm run basemap` only to change it.
//
//   node scripts/make-basemap.mjs            # -> public/basemap/china.json
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topology } from 'topojson-server';
import { presimplify, quantile, simplify } from 'topojson-simplify';
import { mesh, quantize } from 'topojson-client';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'node_modules', 'echarts', 'map', 'json');
const out = join(here, '..', 'public', 'basemap', 'china.json');

/** ECharts' compact ring: pairs of zigzag-encoded deltas, 1/1024 degree units, from an offset. */
function decodeRing(text, offset) {
  const ring = [];
  let x = offset[0];
  let y = offset[1];
  for (let i = 0; i + 1 < text.length; i += 2) {
    let dx = text.charCodeAt(i) - 64;
    let dy = text.charCodeAt(i + 1) - 64;
    dx = (dx >> 1) ^ -(dx & 1);
    dy = (dy >> 1) ^ -(dy & 1);
    x += dx;
    y += dy;
    ring.push([x / 1024, y / 1024]);
  }
  return ring;
}

function decode(collection) {
  if (!collection.UTF8Encoding) return collection;
  for (const f of collection.features) {
    const g = f.geometry;
    const offsets = g.encodeOffsets;
    if (g.type === 'Polygon') g.coordinates = g.coordinates.map((ring, i) => decodeRing(ring, offsets[i]));
    else if (g.type === 'MultiPolygon') g.coordinates = g.coordinates.map((poly, j) => poly.map((ring, i) => decodeRing(ring, offsets[j][i])));
    delete g.encodeOffsets;
  }
  delete collection.UTF8Encoding;
  return collection;
}

// English names of the provinces (the cities keep their Chinese names in both languages).
const PROVINCE_EN = {
  北京: 'Beijing', 天津: 'Tianjin', 河北: 'Hebei', 山西: 'Shanxi', 内蒙古: 'Inner Mongolia', 辽宁: 'Liaoning', 吉林: 'Jilin',
  黑龙江: 'Heilongjiang', 上海: 'Shanghai', 江苏: 'Jiangsu', 浙江: 'Zhejiang', 安徽: 'Anhui', 福建: 'Fujian', 江西: 'Jiangxi',
  山东: 'Shandong', 河南: 'Henan', 湖北: 'Hubei', 湖南: 'Hunan', 广东: 'Guangdong', 广西: 'Guangxi', 海南: 'Hainan',
  重庆: 'Chongqing', 四川: 'Sichuan', 贵州: 'Guizhou', 云南: 'Yunnan', 西藏: 'Tibet', 陕西: 'Shaanxi', 甘肃: 'Gansu',
  青海: 'Qinghai', 宁夏: 'Ningxia', 新疆: 'Xinjiang', 台湾: 'Taiwan', 香港: 'Hong Kong', 澳门: 'Macau',
};

const KEEP = 0.04;
const QUANT = 1e4;
const MIN_AREA = 0.01;
const round = (n) => Math.round(n * 1000) / 1000;
const provinces = decode(JSON.parse(readFileSync(join(src, 'china.json'), 'utf8')));
const cities = decode(JSON.parse(readFileSync(join(src, 'china-cities.json'), 'utf8')));

// One topology: the cities tile the country, so a border between two of them is one arc. The app
// gets borders as lines (topojson's mesh: each border once, no polygon fill to get wrong): province
// borders where the two sides lie in different provinces or on the outside, city borders inside a
// province; provinces with no cities in the source (Taiwan, Hong Kong, Macau) by their own outline.
// Names go with their label points (ECharts' `cp`).
const cityIds = new Set(cities.features.map((f) => String(f.id).slice(0, 2)));
const alone = provinces.features.filter((f) => !cityIds.has(String(f.id ?? f.properties.id).slice(0, 2)));
const layers = {
  cities: { type: 'FeatureCollection', features: cities.features.map((f) => ({ type: 'Feature', id: String(f.id), properties: {}, geometry: f.geometry })) },
  alone: { type: 'FeatureCollection', features: alone.map((f) => ({ type: 'Feature', id: String(f.id ?? f.properties.id), properties: {}, geometry: f.geometry })) },
};
const topo = presimplify(topology(layers, QUANT));
const data = quantize(simplify(topo, quantile(topo, KEEP)), QUANT);
const province = (g) => g.id.slice(0, 2);

// 0.01° (~1 km); closed islands smaller than MIN_AREA square degrees left out.
const ringArea = (r) => {
  let sum = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) sum += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return Math.abs(sum / 2);
};
const tidyLine = (line) => {
  const out = [];
  for (const [x, y] of line) {
    const q = [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
    const last = out[out.length - 1];
    if (!last || last[0] !== q[0] || last[1] !== q[1]) out.push(q);
  }
  if (out.length < 2) return null;
  const closed = out[0][0] === out[out.length - 1][0] && out[0][1] === out[out.length - 1][1];
  return closed && ringArea(out) < MIN_AREA ? null : out;
};
const lines = (...meshes) => ({ type: 'MultiLineString', coordinates: meshes.flatMap((m) => m.coordinates.map(tidyLine).filter(Boolean)) });

const result = {
  source: 'Apache ECharts 4.9.0 map data (china.json, china-cities.json), simplified',
  provinceBorders: lines(
    mesh(data, data.objects.cities, (a, b) => a === b || province(a) !== province(b)),
    ...(data.objects.alone ? [mesh(data, data.objects.alone)] : []),
  ),
  cityBorders: lines(mesh(data, data.objects.cities, (a, b) => a !== b && province(a) === province(b))),
  provinces: provinces.features.map((f) => ({
    id: String(f.id ?? f.properties.id),
    name: f.properties.name,
    en: PROVINCE_EN[f.properties.name] ?? f.properties.name,
    cp: f.properties.cp?.map(round) ?? null,
  })),
  cities: cities.features.map((f) => ({ id: String(f.id), name: f.properties.name, cp: f.properties.cp?.map(round) ?? null })),
};
console.log(`provinces: ${result.provinces.length}, cities: ${result.cities.length}, border lines: ${result.provinceBorders.coordinates.length} + ${result.cityBorders.coordinates.length}`);
mkdirSync(dirname(out), { recursive: true });
const text = JSON.stringify(result);
writeFileSync(out, text);
console.log(`${out}: ${(text.length / 1024).toFixed(0)} KB`);
