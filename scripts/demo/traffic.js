#!/usr/bin/env node
// Drives the demo service (or the proxy in front of it) the way the MyDriving app's users would: each
// virtual user opens a trip, streams GPS points in batches, looks up points of interest near where it is,
// sometimes updates its profile, reads the trip back, lists its trips, closes the trip and deletes every
// other one. Each user keeps one keep-alive connection and waits for each answer before its next request,
// like a phone would; the pace is set by a think time, so the rate stays modest and bounded.
//
// Prints one summary line on stdout; exits 1 when any request failed (transport error or 5xx), 2 on bad
// arguments, so a test can use it as "continuous load that must not see a failure".
'use strict';
const http = require('http');

function usage() {
  return `usage: traffic.js --target URL [--users N] [--duration S] [--think-ms MS] [--max-requests N]
                  [--quiet]

Behaves like the demo app's users against --target (the service or a tapedeck-proxy in front of it).
  --target URL        base URL, e.g. http://127.0.0.1:8080 (required)
  --users N           virtual users, one keep-alive connection each (default 4)
  --duration S        stop starting new requests after S seconds (default 20)
  --think-ms MS       pause between a user's requests (default 100)
  --max-requests N    stop after N requests in all (default 100000)
  --timeout-ms MS     per-request timeout (default 5000)
  --quiet             no summary line
Prints: traffic: requests=N ok=N failed=N rps=R statuses=200:N,201:N,...`;
}

function die(msg) { process.stderr.write(msg + '\n'); process.exit(2); }

function parseArgs(argv) {
  const o = { target: '', users: 4, duration: 20, thinkMs: 100, maxRequests: 100000, timeoutMs: 5000, quiet: false };
  const num = (flag, s) => { if (!/^\d+(\.\d+)?$/.test(s || '')) die(`traffic.js: ${flag} needs a number, got "${s}"`); return Number(s); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`traffic.js: ${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--target': o.target = val(); break;
      case '--users': o.users = num(a, val()); break;
      case '--duration': o.duration = num(a, val()); break;
      case '--think-ms': o.thinkMs = num(a, val()); break;
      case '--max-requests': o.maxRequests = num(a, val()); break;
      case '--timeout-ms': o.timeoutMs = num(a, val()); break;
      case '--quiet': o.quiet = true; break;
      case '--help': case '-h': process.stdout.write(usage() + '\n'); process.exit(0); break;
      case '--version': process.stdout.write('traffic.js (tapedeck demo) 0.1.0\n'); process.exit(0); break;
      default: die(`traffic.js: unknown option "${a}" (see --help)`);
    }
  }
  if (!o.target) die('traffic.js: --target URL is required');
  let u;
  try { u = new URL(o.target); } catch (e) { die(`traffic.js: --target "${o.target}" is not a URL`); }
  if (u.protocol !== 'http:') die(`traffic.js: --target must be an http:// URL, got "${o.target}"`);
  if (o.users < 1 || o.users > 1000) die('traffic.js: --users is 1..1000');
  o.url = u;
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const deadline = Date.now() + opt.duration * 1000;
const stats = { requests: 0, ok: 0, failed: 0, statuses: {}, errors: {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = () => Date.now() < deadline && stats.requests < opt.maxRequests;

// One request; resolves {status, body, headers} or {error}. Never rejects.
function request(agent, method, path, body) {
  return new Promise((resolve) => {
    stats.requests++;
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { 'Accept': 'application/json', 'User-Agent': 'mydriving-app/2.4 (tapedeck demo)' };
    if (data) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = data.length; }
    const req = http.request({ host: opt.url.hostname, port: opt.url.port || 80, method, path, headers, agent,
      timeout: opt.timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] || 0) + 1;
        if (res.statusCode >= 500) stats.failed++; else stats.ok++;
        let json = null;
        try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { /* not JSON: fine */ }
        resolve({ status: res.statusCode, body: json, headers: res.headers });
      });
      res.on('error', (e) => fail(e));
    });
    let done = false;
    function fail(e) {
      if (done) return;
      done = true;
      stats.failed++;
      const k = `${method} ${path}: ${e.code || e.message}`;
      stats.errors[k] = (stats.errors[k] || 0) + 1;
      resolve({ error: e });
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end(data);
  });
}

// A virtual user: one connection (maxSockets 1), a deterministic walk, requests one after another.
async function user(n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // User ids are UUIDs, as the app's identity provider hands them out (route reports fold them into {id}).
  const id = `5f0c1a2e-8d4b-4e6f-9a7c-${n.toString(16).padStart(12, '0')}`;
  let lat = 47.60 + n * 0.01, lon = -122.33 + n * 0.01;
  let step = async (method, path, body) => {
    if (!running()) return null;
    const r = await request(agent, method, path, body);
    await sleep(opt.thinkMs);
    return r;
  };
  await sleep((n - 1) * Math.min(opt.thinkMs, 50)); // stagger the users a little
  await step('GET', `/api/users/${id}/profile`);
  for (let trip = 1; running(); trip++) {
    const created = await step('POST', '/api/trips', { userId: id, name: `Driver ${n} trip ${trip}`,
      vehicle: trip % 3 ? 'car' : 'van', startedAt: `2024-05-01T${String(7 + (trip % 12)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z` });
    if (!created || created.error || created.status !== 201 || !created.body) continue;
    const tid = created.body.id;
    for (let batch = 0; batch < 3; batch++) {
      const points = [];
      for (let k = 0; k < 4; k++) {
        lat += 0.0007 * ((trip + batch + k) % 3 + 1);
        lon += 0.0005 * ((n + batch + k) % 4 + 1);
        points.push({ lat: Math.round(lat * 1e5) / 1e5, lon: Math.round(lon * 1e5) / 1e5, speedKmh: 30 + ((n * 7 + k * 3 + batch) % 50) });
      }
      await step('POST', `/api/trips/${tid}/points`, { points });
      if (batch === 1) await step('GET', `/api/pois?lat=${points[3].lat}&lon=${points[3].lon}`);
    }
    await step('GET', `/api/trips/${tid}`);
    if (trip % 3 === 1) await step('PUT', `/api/users/${id}/profile`, { displayName: `Driver ${n}`, units: trip % 2 ? 'metric' : 'imperial', vehicle: 'car' });
    await step('PATCH', `/api/trips/${tid}`, { status: 'completed' });
    await step('GET', `/api/trips/${tid}/points`);
    await step('GET', `/api/trips?userId=${id}`);
    if (trip % 2 === 0) await step('DELETE', `/api/trips/${tid}`);
    if (trip % 4 === 0) await step('GET', '/api/health');
  }
  agent.destroy();
}

(async () => {
  const t0 = Date.now();
  const users = [];
  for (let n = 1; n <= opt.users; n++) users.push(user(n));
  await Promise.all(users);
  const secs = (Date.now() - t0) / 1000;
  if (!opt.quiet) {
    const st = Object.keys(stats.statuses).sort().map((k) => `${k}:${stats.statuses[k]}`).join(',');
    process.stdout.write(`traffic: requests=${stats.requests} ok=${stats.ok} failed=${stats.failed} ` +
      `rps=${(stats.requests / secs).toFixed(1)} statuses=${st || '-'}\n`);
  }
  for (const [k, v] of Object.entries(stats.errors).slice(0, 10)) process.stderr.write(`traffic: ${v}x ${k}\n`);
  process.exit(stats.failed ? 1 : 0);
})();
