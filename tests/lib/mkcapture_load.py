#!/usr/bin/env python3
"""Writes a capture (.warc.zst, one zstd frame per WARC record) for load tests.

usage: mkcapture_load.py OUT.warc.zst < exchanges.json
exchanges.json: a JSON list of {"method": "GET", "path": "/api/trips/1", "conn": 1, "t_us": 0,
  "status": 200, "body": "", "headers": {"Accept": "application/json"}, "resp_body": "..."}
t_us is the request start relative to the first exchange (the recorded timing --speed replays).
Frames are written by the zstd CLI, one input file per record, so each record is its own frame with
its content size and checksum, as the capture format requires."""
import json
import os
import subprocess
import sys
import tempfile
import uuid

BASE_US = 1795996590000000  # a fixed recording time (2026-11-28)


def iso(us):
    import datetime
    d = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


def record(fields, block):
    head = "WARC/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in fields)
    head += "Content-Length: %d\r\n\r\n" % len(block)
    return head.encode() + block + b"\r\n\r\n"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    xs = json.load(sys.stdin)
    seq = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = []

        def put(data):
            p = os.path.join(tmp, "%06d" % len(files))
            with open(p, "wb") as f:
                f.write(data)
            files.append(p)

        put(record([("WARC-Type", "warcinfo"), ("WARC-Record-ID", "<urn:uuid:%s>" % uuid.uuid4()),
                    ("WARC-Date", iso(BASE_US)), ("Content-Type", "application/warc-fields")],
                   b"software: tapedeck-tests/mkcapture_load\r\nformat: WARC File Format 1.1\r\n"))
        for x in xs:
            conn = int(x.get("conn", 1))
            s = seq.get(conn, 0)
            seq[conn] = s + 1
            start = BASE_US + int(x.get("t_us", 0))
            method, path = x.get("method", "GET"), x["path"]
            body = x.get("body", "").encode()
            hdrs = {"Host": "api.example", "User-Agent": "recorded-client/1.0"}
            hdrs.update(x.get("headers", {}))
            if body:
                hdrs["Content-Length"] = str(len(body))
            req = ("%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in hdrs.items())
                   + "\r\n").encode() + body
            rbody = x.get("resp_body", "{}").encode()
            resp = ("HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (int(x.get("status", 200)), len(rbody))).encode() + rbody
            uri = "http://api.example" + path
            rid = "urn:uuid:%s" % uuid.uuid4()
            common = [("WARC-Target-URI", uri), ("WARC-Tapedeck-Conn", str(conn)), ("WARC-Tapedeck-Seq", str(s))]
            put(record([("WARC-Type", "request"), ("WARC-Record-ID", "<%s>" % rid), ("WARC-Date", iso(start))]
                       + common + [("Content-Type", "application/http;msgtype=request"),
                                   ("WARC-Tapedeck-Request-Start", str(start))], req))
            put(record([("WARC-Type", "response"), ("WARC-Record-ID", "<urn:uuid:%s>" % uuid.uuid4()),
                        ("WARC-Date", iso(start + 1000))] + common
                       + [("Content-Type", "application/http;msgtype=response"), ("WARC-Concurrent-To", "<%s>" % rid),
                          ("WARC-Tapedeck-Response-First", str(start + 1000)),
                          ("WARC-Tapedeck-Response-End", str(start + 1100))], resp))
        with open(sys.argv[1], "wb") as out:
            # one frame per input file; in chunks so the argument list stays short
            for i in range(0, len(files), 2000):
                subprocess.run(["zstd", "-q", "-c", "--no-progress"] + files[i:i + 2000], stdout=out, check=True)


if __name__ == "__main__":
    main()
