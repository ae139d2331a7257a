// Build public/basemap/china.json: province and prefecture-city boundaries and names for the maps,
// so they need no tile server. Source: the Chinese administrative boundaries that Apache ECharts 4
// ships (node_modules/echarts/map/json/china.json and china-cities.json, a dev dependency only).
// Their coordinates are in ECharts' compact encoding; they are decoded, simplified as one topology
// (neighbours keep a shared border), and written as one TopoJSON (quantized to 1/100,000 of the extent, about 60 m).
// The output is committed; run `npm run basemap` only to change it.
//
//   node scripts/make-basemap.mjs            # -> public/basemap/china.json
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topology } from 'topojson-server';
import { presimplify, quantile, simplify } from 'topojson-simplify';
import { feature, mergeArcs, quantize } from 'topojson-client';

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

const KEEP = 0.015;
const QUANT = 1e4;
const MIN_AREA = 0.01;
const round = (n) => Math.round(n * 1000) / 1000;
const provinces = decode(JSON.parse(readFileSync(join(src, 'china.json'), 'utf8')));
const cities = decode(JSON.parse(readFileSync(join(src, 'china-cities.json'), 'utf8')));

// One topology: the cities tile the country, so a border between two of them is stored once, as
// delta-encoded integers. A province is the union of its cities' shapes (mergeArcs: the same arcs,
// no second copy of its border); provinces with no cities in the source (Taiwan, Hong Kong, Macau)
// keep their own outline. The map turns it back into GeoJSON (topojson-client).
const cityIds = new Set(cities.features.map((f) => String(f.id).slice(0, 2)));
const alone = provinces.features.filter((f) => !cityIds.has(String(f.id ?? f.properties.id).slice(0, 2)));
const layers = {
  cities: {
    type: 'FeatureCollection',
    features: cities.features.map((f) => ({ type: 'Feature', id: String(f.id), properties: { name: f.properties.name, cp: f.properties.cp?.map(round) ?? null }, geometry: f.geometry })),
  },
  alone: { type: 'FeatureCollection', features: alone.map((f) => ({ type: 'Feature', id: String(f.id ?? f.properties.id), properties: {}, geometry: f.geometry })) },
};
const topo = presimplify(topology(layers, QUANT));
const data = quantize(simplify(topo, quantile(topo, KEEP)), QUANT);
const cityGeoms = data.objects.cities.geometries;
const aloneGeoms = new Map((data.objects.alone?.geometries ?? []).map((g) => [g.id, g]));
data.objects.provinces = {
  type: 'GeometryCollection',
  geometries: provinces.features.map((f) => {
    const id = String(f.id ?? f.properties.id);
    const properties = { name: f.properties.name, en: PROVINCE_EN[f.properties.name] ?? f.properties.name, cp: f.properties.cp?.map(round) ?? null };
    const own = cityGeoms.filter((g) => g.id.slice(0, 2) === id.slice(0, 2));
    const geometry = own.length ? mergeArcs(data, own) : aloneGeoms.get(id);
    return { ...geometry, id, properties };
  }),
};

// Plain GeoJSON for the app (no decoder in the bundle): 0.01° (~1 km), islands smaller than
// MIN_AREA square degrees left out unless they are all a place has.
const ringArea = (r) => {
  let sum = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) sum += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return Math.abs(sum / 2);
};
const tidyRing = (r) => {
  const outRing = [];
  for (const [x, y] of r) {
    const q = [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
    const last = outRing[outRing.length - 1];
    if (!last || last[0] !== q[0] || last[1] !== q[1]) outRing.push(q);
  }
  return outRing.length >= 4 ? outRing : null;
};
const tidy = (geometry) => {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  const largest = Math.max(...polygons.map((p) => ringArea(p[0])));
  const kept = polygons
    .filter((p) => ringArea(p[0]) >= MIN_AREA || ringArea(p[0]) === largest)
    .map((p) => p.map(tidyRing).filter(Boolean))
    .filter((p) => p.length);
  return kept.length === 1 ? { type: 'Polygon', coordinates: kept[0] } : { type: 'MultiPolygon', coordinates: kept };
};
const collection = (name) => ({
  type: 'FeatureCollection',
  features: feature(data, data.objects[name]).features.filter((f) => f.geometry).map((f) => ({ type: 'Feature', properties: { id: f.id, ...f.properties }, geometry: tidy(f.geometry) })),
});
const result = { source: 'Apache ECharts 4.9.0 map data (china.json, china-cities.json), simplified', provinces: collection('provinces'), cities: collection('cities') };
console.log(`provinces: ${result.provinces.features.length} of ${provinces.features.length}, cities: ${result.cities.features.length} of ${cities.features.length}`);
mkdirSync(dirname(out), { recursive: true });
const text = JSON.stringify(result);
writeFileSync(out, text);
console.log(`${out}: ${(text.length / 1024).toFixed(0)} KB`);
