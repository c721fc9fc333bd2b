#!/usr/bin/env python3
"""mkcapture.py: write a tapedeck capture file (.warc.zst, no dictionary) from a JSON description, for tests.

Usage:  mkcapture.py [--plain] [--dictionary] [--frames per-record|one] INPUT.json|- OUTPUT
  --plain        write an uncompressed .warc instead
  --dictionary   compress with a dictionary (raw content: the first records, up to 16 KiB) stored in a
                 leading skippable frame (magic 0x184D2A5D), as the proxy's writer does; plain `zstdcat`
                 cannot read such a file, tapedeck can
  --frames one   put every record into ONE zstd frame (breaks the one-frame-per-record convention:
                 for testing that `verify` notices); default per-record
Each WARC record is compressed into its own zstd frame by the `zstd` CLI, which writes the content size
and a checksum in every frame: a valid capture per docs/design.md that `zstdcat` also reads.

INPUT is a JSON object {"warcinfo": {...}, "exchanges": [...]} or just the list of exchanges.
  warcinfo (optional): extra "key: value" lines for the warcinfo record, e.g. {"upstream": "http://..."}.
  Each exchange is an object; only "request" is required:
    request / request_b64     the raw request as sent (text, or base64 for binary), e.g.
                              "GET /api/trips/42 HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n"
    response / response_b64   the raw final response as the upstream sent it; leave both out (or null)
                              for an exchange whose upstream failed
    error                     why the upstream failed (WARC-Tapedeck-Error); default "no response" when
                              there is no response
    target_uri                WARC-Target-URI; default "http://" + Host header + request target
    start_us                  request start, Unix microseconds; default 2026-01-01T00:00:00Z + i * 100 ms
    latency_ms                response end - request start; default 5 (ignored without a response)
    first_byte_ms             response first byte - request start; default latency_ms / 2
    conn, seq                 client connection id and sequence on it; default i + 1 and 0
    client                    client "ip:port" (WARC-Tapedeck-Client); default none
    interim                   list of 1xx status codes that came before the response (WARC-Tapedeck-Interim)
    truncated                 list of "request" / "response": bodies cut at --max-body (WARC-Truncated)
Record ids are deterministic (urn:uuid derived from the exchange index), so output is reproducible.
"""
import base64
import datetime
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import uuid

BASE_US = 1767225600 * 1000000  # 2026-01-01T00:00:00Z


def iso(us):
    t = datetime.datetime.fromtimestamp(us // 1000000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


def rid(*parts):
    return "urn:uuid:%s" % uuid.uuid5(uuid.NAMESPACE_URL, "tapedeck-test:" + ":".join(map(str, parts)))


def split_head(msg):
    i = msg.find(b"\r\n\r\n")
    j = msg.find(b"\n\n")
    if i < 0 and j < 0:
        return msg, b""
    if i >= 0 and (j < 0 or i < j):
        return msg[: i + 4], msg[i + 4:]
    return msg[: j + 2], msg[j + 2:]


def header(head, name):
    for line in head.split(b"\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode("latin-1")
    return None


def dechunk(body):
    out, i = b"", 0
    while i < len(body):
        nl = body.find(b"\n", i)
        if nl < 0:
            break
        size_txt = body[i:nl].split(b";")[0].strip()
        try:
            size = int(size_txt, 16)
        except ValueError:
            break
        i = nl + 1
        if size == 0:
            break
        out += body[i: i + size]
        i += size
        if body[i: i + 2] == b"\r\n":
            i += 2
    return out


def payload_digest(msg):
    head, body = split_head(msg)
    te = header(head, "transfer-encoding")
    if te and te.split(",")[-1].strip().lower() == "chunked":
        body = dechunk(body)
    return "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode()


def record(fields, block):
    head = "WARC/1.1\r\n" + "".join("%s: %s\r\n" % (k, v) for k, v in fields)
    head += "Content-Length: %d\r\n\r\n" % len(block)
    return head.encode() + block + b"\r\n\r\n"


def raw(ex, name):
    if ex.get(name + "_b64") is not None:
        return base64.b64decode(ex[name + "_b64"])
    if ex.get(name) is not None:
        return ex[name].encode("utf-8")
    return None


def build(doc):
    if isinstance(doc, list):
        doc = {"exchanges": doc}
    info = "software: tapedeck/mkcapture.py\r\nformat: WARC File Format 1.1\r\n"
    for k, v in (doc.get("warcinfo") or {}).items():
        info += "%s: %s\r\n" % (k, v)
    recs = [record([("WARC-Type", "warcinfo"), ("WARC-Record-ID", "<%s>" % rid("warcinfo")),
                    ("WARC-Date", iso(BASE_US)), ("Content-Type", "application/warc-fields")], info.encode())]
    for i, ex in enumerate(doc["exchanges"]):
        req, resp = raw(ex, "request"), raw(ex, "response")
        if req is None:
            raise SystemExit("mkcapture.py: exchange %d has no request" % i)
        start = int(ex.get("start_us", BASE_US + i * 100000))
        lat = float(ex.get("latency_ms", 5))
        first = start + int(float(ex.get("first_byte_ms", lat / 2)) * 1000)
        end = start + int(lat * 1000)
        head, _ = split_head(req)
        target = ex.get("target_uri")
        if not target:
            line = head.split(b"\r\n")[0].split(b" ")
            host = header(head, "host") or "localhost"
            target = "http://%s%s" % (host, line[1].decode("latin-1") if len(line) > 1 else "/")
        trunc = ex.get("truncated") or []
        common = [("WARC-Target-URI", target)]
        conn = [("WARC-Tapedeck-Conn", str(ex.get("conn", i + 1))), ("WARC-Tapedeck-Seq", str(ex.get("seq", 0)))]
        req_id = rid("req", i)
        f = [("WARC-Type", "request"), ("WARC-Record-ID", "<%s>" % req_id), ("WARC-Date", iso(start))] + common
        f += [("Content-Type", "application/http;msgtype=request"), ("WARC-Payload-Digest", payload_digest(req))]
        f += conn
        if "request" in trunc:
            f.append(("WARC-Truncated", "length"))
        f.append(("WARC-Tapedeck-Request-Start", str(start)))
        if ex.get("client"):
            f.append(("WARC-Tapedeck-Client", ex["client"]))
        if resp is None or ex.get("error"):
            f.append(("WARC-Tapedeck-Error", ex.get("error") or "no response"))
        recs.append(record(f, req))
        if resp is None:
            continue
        f = [("WARC-Type", "response"), ("WARC-Record-ID", "<%s>" % rid("resp", i)), ("WARC-Date", iso(first))]
        f += common + [("Content-Type", "application/http;msgtype=response"),
                       ("WARC-Payload-Digest", payload_digest(resp))] + conn
        f.append(("WARC-Concurrent-To", "<%s>" % req_id))
        if "response" in trunc:
            f.append(("WARC-Truncated", "length"))
        f += [("WARC-Tapedeck-Response-First", str(first)), ("WARC-Tapedeck-Response-End", str(end))]
        if ex.get("interim"):
            f.append(("WARC-Tapedeck-Interim", ",".join(str(c) for c in ex["interim"])))
        recs.append(record(f, resp))
    return recs


def main(argv):
    plain, dictionary, frames, args = False, False, "per-record", []
    it = iter(argv)
    for a in it:
        if a == "--plain":
            plain = True
        elif a == "--dictionary":
            dictionary = True
        elif a == "--frames":
            frames = next(it, "")
        elif a.startswith("--frames="):
            frames = a.split("=", 1)[1]
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    if len(args) != 2 or frames not in ("per-record", "one"):
        sys.stderr.write("usage: mkcapture.py [--plain] [--dictionary] [--frames per-record|one] INPUT.json|- OUTPUT\n")
        return 2
    src = sys.stdin if args[0] == "-" else open(args[0], encoding="utf-8")
    recs = build(json.load(src))
    if plain:
        with open(args[1], "wb") as out:
            out.write(b"".join(recs))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        chunks = [b"".join(recs)] if frames == "one" else recs
        for n, r in enumerate(chunks):
            names.append(os.path.join(tmp, "r%07d" % n))
            with open(names[-1], "wb") as f:
                f.write(r)
        with open(os.path.join(tmp, "list"), "w") as f:
            f.write("\n".join(names) + "\n")
        cmd = ["zstd", "-q", "-3", "--check", "-c", "--filelist", os.path.join(tmp, "list")]
        with open(args[1], "wb") as out:
            if dictionary:
                # raw-content dictionary (no magic number: zstd loads any bytes as one)
                d = b"".join(recs)[:16384]
                with open(os.path.join(tmp, "dict"), "wb") as f:
                    f.write(d)
                cmd[1:1] = ["-D", os.path.join(tmp, "dict")]
                out.write(struct.pack("<II", 0x184D2A5D, len(d)) + d)
                out.flush()
            # -c with several inputs: one frame per input file, each with content size and checksum
            subprocess.run(cmd, stdout=out, check=True)
    os.chmod(args[1], 0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
