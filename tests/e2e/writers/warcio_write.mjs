// Writes a .warc.gz through warcio.js's own record builder and serializer, in the order warcio writes
// an exchange (the response first, then the request naming it in WARC-Concurrent-To), with the digest
// encoding asked for. Usage: node warcio_write.mjs OUT.warc.gz BASE_URL base32|base16 PATH=FILE...
import fs from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.env.TAPEDECK_NPM_DIR + "/package.json");
const { WARCRecord, WARCSerializer } = require("warcio");

const [out, base, enc, ...pairs] = process.argv.slice(2);
const opts = { gzip: true, digest: { algo: "sha-256", prefix: "sha256:", base32: enc === "base32" } };
const chunks = [];
const info = WARCRecord.createWARCInfo({ filename: out, warcVersion: "WARC/1.1" }, { software: "warcio.js" });
chunks.push(await WARCSerializer.serialize(info, opts));
for (const p of pairs) {
  const [path, file, type] = p.split("=");
  const body = fs.readFileSync(file);
  const url = base + path;
  async function* payload() { yield body; }
  const resp = WARCRecord.create({
    url, type: "response", warcVersion: "WARC/1.1", statusline: "HTTP/1.1 200 OK",
    httpHeaders: { "Content-Type": type, "Content-Length": String(body.length) },
  }, payload());
  chunks.push(await WARCSerializer.serialize(resp, opts));
  const req = WARCRecord.create({
    url, type: "request", warcVersion: "WARC/1.1", statusline: `GET ${path} HTTP/1.1`,
    httpHeaders: { Host: new URL(base).host, "User-Agent": "warcio.js" },
    warcHeaders: { "WARC-Concurrent-To": resp.warcHeader("WARC-Record-ID") },
  }, (async function* () {})());
  chunks.push(await WARCSerializer.serialize(req, opts));
}
fs.writeFileSync(out, Buffer.concat(chunks));
