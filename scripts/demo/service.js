#!/usr/bin/env node
// A small MyDriving-like API for the demo and the end-to-end tests: trips, trip points, points of
// interest, user profiles, health checks. Plain node (built-in http only), HTTP/1.1 with keep-alive,
// an in-memory store, and — by default — deterministic answers, so a recording replays to the same bytes.
// It is deliberately not the product: it exists to be recorded, replayed and broken on purpose.
//
// Variants (--variant) change one thing each, so a gate that fails can be checked to fail for the right
// reason. See usage() below for the list.
'use strict';
const http = require('http');
const crypto = require('crypto');

const VARIANTS = {
  'v1': 'the baseline',
  'v2-good': 'harmless: trips gain a "co2Grams" field, an X-Api-Version header, timestamps from another epoch',
  'v2-broken': 'GET /api/trips/{id} returns "distance" as a string ("12.345 km") instead of a number',
  'v2-slow': 'GET /api/pois answers 40 ms later',
  'removed-field': 'trip objects lose their "pointCount" field (every trip route)',
  'status-changed': 'GET /api/pois answers 500 {"error":"poi backend unavailable"} instead of 200',
  'noisy': 'every JSON response carries volatile "requestId" (random) and "serverTime" (wall clock) fields',
  'noisy-regressed': 'noisy, plus the v2-broken change (distance as a string on GET /api/trips/{id})',
};

function usage() {
  const v = Object.keys(VARIANTS).map((k) => `    ${k.padEnd(16)} ${VARIANTS[k]}`).join('\n');
  return `usage: service.js [--port P] [--host H] [--variant NAME] [--id-start N] [--clock fixed|wall]
                  [--delay-ms N] [--stall-once-ms N] [--name NAME] [--verbose]

A MyDriving-like demo API (not part of tapedeck). Prints "listening on PORT" on stdout once ready.

  --port P           port to listen on; 0 picks a free one (default 0)
  --host H           address to bind (default 127.0.0.1)
  --variant NAME     which version to serve (default v1):
${v}
  --id-start N       first trip id handed out (default 1)
  --clock MODE       fixed: timestamps derived from the requests (deterministic, the default);
                     wall: createdAt/updatedAt from the wall clock, as a real deployment would
  --delay-ms N       add N ms to every response
  --stall-once-ms N  the 10th response (counted over all routes) stalls N ms, once
  --name NAME        instance name reported by /healthz (default: the variant)
  --verbose          one line per request on stderr
  --help, --version

Routes: POST/GET /api/trips, GET/PATCH/DELETE /api/trips/{id}, POST/GET /api/trips/{id}/points,
GET /api/pois?lat=&lon=, GET/PUT /api/users/{id}/profile, GET /healthz, GET /api/health.
Lists answer chunked (no Content-Length); single objects carry a Content-Length.`;
}

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', variant: 'v1', idStart: 1, clock: 'fixed', delayMs: 0,
    stallOnceMs: 0, name: '', verbose: false };
  const num = (flag, s) => {
    if (!/^\d+$/.test(s || '')) die(`service.js: ${flag} needs a whole number, got "${s}"`);
    return Number(s);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`service.js: ${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--port': o.port = num(a, val()); break;
      case '--host': o.host = val(); break;
      case '--variant': o.variant = val(); break;
      case '--id-start': o.idStart = num(a, val()); break;
      case '--clock': o.clock = val(); break;
      case '--delay-ms': o.delayMs = num(a, val()); break;
      case '--stall-once-ms': o.stallOnceMs = num(a, val()); break;
      case '--name': o.name = val(); break;
      case '--verbose': o.verbose = true; break;
      case '--help': case '-h': process.stdout.write(usage() + '\n'); process.exit(0); break;
      case '--version': process.stdout.write('service.js (tapedeck demo) 0.1.0\n'); process.exit(0); break;
      default: die(`service.js: unknown option "${a}" (see --help)`);
    }
  }
  if (!VARIANTS[o.variant]) die(`service.js: unknown variant "${o.variant}"; one of: ${Object.keys(VARIANTS).join(', ')}`);
  if (o.clock !== 'fixed' && o.clock !== 'wall') die(`service.js: --clock is fixed or wall, got "${o.clock}"`);
  if (!o.name) o.name = o.variant;
  return o;
}

function die(msg) { process.stderr.write(msg + '\n'); process.exit(2); }

const opt = parseArgs(process.argv.slice(2));
const noisy = opt.variant === 'noisy' || opt.variant === 'noisy-regressed';
const distanceAsString = opt.variant === 'v2-broken' || opt.variant === 'noisy-regressed';

// Fixed-clock timestamps: an epoch per version plus a step per modification, so they depend only on the
// requests a trip or profile has seen — never on the id, so a candidate numbering ids from elsewhere
// (--id-start) still answers the same timestamps.
const EPOCH = Date.parse(opt.variant === 'v2-good' ? '2025-03-01T00:00:00Z' : '2024-05-01T08:00:00Z');
function stamp(rev) { return new Date(opt.clock === 'wall' ? Date.now() : EPOCH + rev * 1000).toISOString(); }

const MAX_BODY = 1 << 20;
const MAX_TRIPS = 100000;
const MAX_POINTS = 5000;
let nextId = opt.idStart;
const trips = new Map();    // id -> trip (with .points array, .rev)
const profiles = new Map(); // user id -> profile

function round(x, d) { const m = 10 ** d; return Math.round(x * m) / m; }

function haversineKm(a, b) {
  const r = (x) => (x * Math.PI) / 180;
  const dLat = r(b.lat - a.lat), dLon = r(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(r(a.lat)) * Math.cos(r(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function tripView(t, route) {
  const v = { id: t.id, userId: t.userId, name: t.name, status: t.status, vehicle: t.vehicle,
    startedAt: t.startedAt, createdAt: t.createdAt, updatedAt: t.updatedAt,
    distance: round(t.distance, 3), pointCount: t.points.length };
  if (opt.variant === 'removed-field') delete v.pointCount;
  if (opt.variant === 'v2-good') v.co2Grams = Math.round(t.distance * 120);
  if (distanceAsString && route === 'GET /api/trips/{id}') v.distance = `${v.distance.toFixed(3)} km`;
  return v;
}

function profileOf(userId) {
  let p = profiles.get(userId);
  if (!p) {
    p = { userId, displayName: `Driver ${userId}`, units: 'metric', vehicle: 'hatchback', rev: 0 };
    p.updatedAt = stamp(0);
    profiles.set(userId, p);
  }
  return p;
}
function profileView(p) {
  return { userId: p.userId, displayName: p.displayName, units: p.units, vehicle: p.vehicle,
    updatedAt: p.updatedAt, tripCount: [...trips.values()].filter((t) => t.userId === p.userId).length };
}

// Points of interest near a position, derived from the rounded coordinates: same query, same answer.
function poisNear(lat, lon) {
  const kinds = ['fuel', 'parking', 'charging', 'repair', 'cafe'];
  const seed = Math.abs(Math.round(lat * 100) * 31 + Math.round(lon * 100) * 17);
  const out = [];
  for (let i = 0; i < 3 + (seed % 4); i++) {
    const plat = round(lat + (((seed + i * 7) % 21) - 10) / 1000, 5);
    const plon = round(lon + (((seed + i * 13) % 21) - 10) / 1000, 5);
    out.push({ id: `poi-${seed}-${i}`, kind: kinds[(seed + i) % kinds.length], name: `${kinds[(seed + i) % kinds.length]} #${i + 1}`,
      lat: plat, lon: plon, distanceKm: round(haversineKm({ lat, lon }, { lat: plat, lon: plon }), 3) });
  }
  return out;
}

class HttpError extends Error { constructor(status, msg) { super(msg); this.status = status; } }

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new HttpError(413, 'body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size === 0) { resolve({}); return; }
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve(v);
      } catch (e) { reject(new HttpError(400, `request body is not a JSON object: ${e.message}`)); }
    });
    req.on('error', reject);
  });
}

function decorate(obj) {
  if (!noisy) return obj;
  return Object.assign({}, obj, { requestId: crypto.randomBytes(8).toString('hex'), serverTime: new Date().toISOString() });
}

// Single objects go out with a Content-Length; lists are written in pieces without one (chunked).
function send(res, status, obj, headers) {
  const h = Object.assign(obj === null ? {} : { 'Content-Type': 'application/json; charset=utf-8' }, headers || {});
  if (opt.variant === 'v2-good') h['X-Api-Version'] = '2';
  if (obj === null) { res.writeHead(status, h); res.end(); return; }
  const body = Buffer.from(JSON.stringify(decorate(obj)));
  h['Content-Length'] = body.length;
  res.writeHead(status, h);
  res.end(body);
}
function sendList(res, key, items, extra) {
  const h = { 'Content-Type': 'application/json; charset=utf-8' };
  if (opt.variant === 'v2-good') h['X-Api-Version'] = '2';
  res.writeHead(200, h);
  const head = decorate(Object.assign({}, extra || {}, { count: items.length }));
  res.write(JSON.stringify(head).slice(0, -1) + `,"${key}":[`);
  items.forEach((it, i) => res.write((i ? ',' : '') + JSON.stringify(it)));
  res.end(']}');
}

function tripOr404(id) {
  const t = trips.get(Number(id));
  if (!t) throw new HttpError(404, `no trip ${id}`);
  return t;
}

async function route(req, res, url) {
  const p = url.pathname;
  const m = req.method;
  let g;
  if (p === '/healthz' && m === 'GET') return send(res, 200, { status: 'ok', version: opt.variant, instance: opt.name });
  if (p === '/api/health' && m === 'GET') return send(res, 200, { status: 'ok', checks: { store: 'ok' } });

  if (p === '/api/trips') {
    if (m === 'GET') {
      const user = url.searchParams.get('userId');
      const list = [...trips.values()].filter((t) => !user || t.userId === user).map((t) => tripView(t, 'GET /api/trips'));
      return sendList(res, 'items', list, user ? { userId: user } : {});
    }
    if (m === 'POST') {
      const b = await readJson(req);
      if (typeof b.userId !== 'string' || !b.userId) throw new HttpError(400, 'userId (string) is required');
      if (trips.size >= MAX_TRIPS) throw new HttpError(507, 'trip store full');
      const id = nextId++;
      const t = { id, userId: b.userId, name: typeof b.name === 'string' ? b.name : `Trip ${id}`, status: 'active',
        vehicle: typeof b.vehicle === 'string' ? b.vehicle : 'car', startedAt: typeof b.startedAt === 'string' ? b.startedAt : null,
        distance: 0, points: [], rev: 0 };
      t.createdAt = t.updatedAt = stamp(0);
      trips.set(id, t);
      return send(res, 201, tripView(t, 'POST /api/trips'), { Location: `/api/trips/${id}` });
    }
    throw new HttpError(405, `${m} not allowed on ${p}`);
  }
  if ((g = /^\/api\/trips\/(\d+)$/.exec(p))) {
    const t = tripOr404(g[1]);
    if (m === 'GET') return send(res, 200, tripView(t, 'GET /api/trips/{id}'));
    if (m === 'PATCH') {
      const b = await readJson(req);
      if (typeof b.name === 'string') t.name = b.name;
      if (b.status === 'active' || b.status === 'completed') t.status = b.status;
      else if (b.status !== undefined) throw new HttpError(400, 'status is "active" or "completed"');
      t.rev++;
      t.updatedAt = stamp(t.rev);
      return send(res, 200, tripView(t, 'PATCH /api/trips/{id}'));
    }
    if (m === 'DELETE') { trips.delete(t.id); return send(res, 204, null); }
    throw new HttpError(405, `${m} not allowed on ${p}`);
  }
  if ((g = /^\/api\/trips\/(\d+)\/points$/.exec(p))) {
    const t = tripOr404(g[1]);
    if (m === 'GET') return sendList(res, 'items', t.points, { tripId: t.id });
    if (m === 'POST') {
      const b = await readJson(req);
      const pts = Array.isArray(b.points) ? b.points : [b];
      for (const pt of pts) {
        if (typeof pt.lat !== 'number' || typeof pt.lon !== 'number') throw new HttpError(400, 'each point needs numeric lat and lon');
      }
      if (t.points.length + pts.length > MAX_POINTS) throw new HttpError(413, `a trip holds at most ${MAX_POINTS} points`);
      for (const pt of pts) {
        const q = { seq: t.points.length + 1, lat: pt.lat, lon: pt.lon, speedKmh: typeof pt.speedKmh === 'number' ? pt.speedKmh : 0 };
        if (t.points.length) t.distance += haversineKm(t.points[t.points.length - 1], q);
        t.points.push(q);
      }
      t.rev++;
      t.updatedAt = stamp(t.rev);
      return send(res, 201, { tripId: t.id, added: pts.length, pointCount: t.points.length, distance: round(t.distance, 3) });
    }
    throw new HttpError(405, `${m} not allowed on ${p}`);
  }
  if (p === '/api/pois' && m === 'GET') {
    const lat = Number(url.searchParams.get('lat')), lon = Number(url.searchParams.get('lon'));
    if (!url.searchParams.has('lat') || !url.searchParams.has('lon') || !isFinite(lat) || !isFinite(lon)) {
      throw new HttpError(400, 'lat and lon query parameters are required');
    }
    if (opt.variant === 'v2-slow') await sleep(40);
    if (opt.variant === 'status-changed') throw new HttpError(500, 'poi backend unavailable');
    return sendList(res, 'items', poisNear(lat, lon), { lat, lon });
  }
  if ((g = /^\/api\/users\/([A-Za-z0-9_-]{1,64})\/profile$/.exec(p))) {
    const prof = profileOf(g[1]);
    if (m === 'GET') return send(res, 200, profileView(prof));
    if (m === 'PUT') {
      const b = await readJson(req);
      for (const k of ['displayName', 'units', 'vehicle']) if (typeof b[k] === 'string') prof[k] = b[k];
      prof.rev++;
      prof.updatedAt = stamp(prof.rev);
      return send(res, 200, profileView(prof));
    }
    throw new HttpError(405, `${m} not allowed on ${p}`);
  }
  throw new HttpError(404, `no route for ${m} ${p}`);
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

let served = 0;
const server = http.createServer(async (req, res) => {
  const t0 = process.hrtime.bigint();
  const n = ++served;
  res.on('finish', () => {
    if (opt.verbose) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      process.stderr.write(`${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
    }
  });
  try {
    if (opt.delayMs) await sleep(opt.delayMs);
    if (opt.stallOnceMs && n === 10) await sleep(opt.stallOnceMs);
    await route(req, res, new URL(req.url, 'http://service.local'));
  } catch (e) {
    const status = e instanceof HttpError ? e.status : 500;
    if (!res.headersSent) send(res, status, { error: e.message, status });
    else res.destroy();
  }
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.on('error', (e) => die(`service.js: cannot listen on ${opt.host}:${opt.port}: ${e.message}`));
server.listen(opt.port, opt.host, () => process.stdout.write(`listening on ${server.address().port}\n`));
const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
