#!/usr/bin/env python3
"""Records a scripted conversation with a live HTTP server into a .warc.zst capture, without the proxy,
so the `check` tests do not depend on it. Requests go out over raw sockets (one socket per script
connection, keep-alive), and both messages are stored byte for byte as they crossed the wire: chunked
bodies stay chunked, gzip stays gzip. One zstd frame per WARC record (zstd CLI, content size and
checksum in every frame), no dictionary.

usage: mkcapture_check.py --target http://127.0.0.1:PORT --out FILE.warc.zst SCRIPT.json
SCRIPT: [{"conn": 1, "method": "GET", "path": "/x", "headers": {"Accept-Encoding": "gzip"},
          "body": "...", "save": {"trip1": "id"}}, ...]
  conn defaults to 1; the Host header is added. "save" keeps a top-level field of the (JSON) response
  under a name; "{name}" in a later path or body is replaced by it (a client reusing a created id).
"""
import argparse
import json
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse


def read_response(sock, buf, method):
    """Reads one whole response from sock (plus leftover buf); returns (raw, rest)."""
    def fill():
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk
    while True:
        while b"\r\n\r\n" not in buf:
            buf += fill()
        head_end = buf.index(b"\r\n\r\n") + 4
        head = buf[:head_end]
        status = int(head.split(b" ", 2)[1])
        if 100 <= status < 200 and status != 101:
            buf = buf[head_end:]  # interim responses are not part of the record
            continue
        break
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    pos = head_end
    if method == "HEAD" or status in (204, 304):
        return buf[:pos], buf[pos:]
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        while True:
            while b"\r\n" not in buf[pos:]:
                buf += fill()
            le = buf.index(b"\r\n", pos)
            size = int(buf[pos:le].split(b";")[0], 16)
            pos = le + 2
            if size == 0:
                while True:  # trailers up to the blank line
                    while b"\r\n" not in buf[pos:]:
                        buf += fill()
                    le = buf.index(b"\r\n", pos)
                    empty = le == pos
                    pos = le + 2
                    if empty:
                        return buf[:pos], buf[pos:]
            while len(buf) < pos + size + 2:
                buf += fill()
            pos += size + 2
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(buf) < pos + n:
            buf += fill()
        return buf[:pos + n], buf[pos + n:]
    try:
        while True:
            buf += fill()
    except EOFError:
        pass
    return buf, b""


def warc_record(fields, block):
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return head.encode("latin-1") + block + b"\r\n\r\n"


def zframe(data):
    return subprocess.run(["zstd", "-q", "-c", "--check", f"--stream-size={len(data)}"], input=data,
                          stdout=subprocess.PIPE, check=True).stdout


def iso(us):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1000000)) + ".%06dZ" % (us % 1000000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("script")
    a = ap.parse_args()
    u = urlparse(a.target)
    host, port = u.hostname, u.port or 80
    script = json.load(open(a.script))
    socks, bufs, seqs = {}, {}, {}
    out = bytearray()
    info = b"software: mkcapture_check.py\r\nformat: WARC File Format 1.1\r\n"
    out += zframe(warc_record([("WARC-Type", "warcinfo"), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"),
                               ("WARC-Date", iso(int(time.time() * 1e6))),
                               ("Content-Type", "application/warc-fields")], info))
    saved = {}

    def subst(text):
        for k, v in saved.items():
            text = text.replace("{" + k + "}", str(v))
        return text

    for step in script:
        conn = int(step.get("conn", 1))
        if conn not in socks:
            socks[conn] = socket.create_connection((host, port))
            bufs[conn] = b""
            seqs[conn] = 0
        method = step.get("method", "GET")
        body = subst(step.get("body", "")).encode()
        path = subst(step["path"])
        hdrs = {"Host": f"{host}:{port}"}
        hdrs.update(step.get("headers", {}))
        if body or method in ("POST", "PUT", "PATCH"):
            hdrs.setdefault("Content-Length", str(len(body)))
        req = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        req = req.encode("latin-1") + b"\r\n" + body
        t0 = int(time.time() * 1e6)
        socks[conn].sendall(req)
        raw, bufs[conn] = read_response(socks[conn], bufs[conn], method)
        t1 = int(time.time() * 1e6)
        rid = f"urn:uuid:{uuid.uuid4()}"
        uri = f"http://{host}:{port}{path}"
        if step.get("save"):
            payload = raw[raw.index(b"\r\n\r\n") + 4:]
            if b"chunked" in raw[:raw.index(b"\r\n\r\n")].lower():
                plain, rest = b"", payload
                while True:
                    le = rest.index(b"\r\n")
                    n = int(rest[:le].split(b";")[0], 16)
                    if n == 0:
                        break
                    plain += rest[le + 2:le + 2 + n]
                    rest = rest[le + 4 + n:]
                payload = plain
            obj = json.loads(payload)
            for name, field in step["save"].items():
                saved[name] = obj[field]
        common = [("WARC-Target-URI", uri), ("WARC-Tapedeck-Conn", str(conn)),
                  ("WARC-Tapedeck-Seq", str(seqs[conn]))]
        out += zframe(warc_record([("WARC-Type", "request"), ("WARC-Record-ID", f"<{rid}>"),
                                   ("WARC-Date", iso(t0))] + common +
                                  [("WARC-Tapedeck-Request-Start", str(t0)),
                                   ("Content-Type", "application/http;msgtype=request")], req))
        out += zframe(warc_record([("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"),
                                   ("WARC-Date", iso(t1))] + common +
                                  [("WARC-Concurrent-To", f"<{rid}>"),
                                   ("WARC-Tapedeck-Response-First", str(t1)),
                                   ("WARC-Tapedeck-Response-End", str(t1)),
                                   ("Content-Type", "application/http;msgtype=response")], raw))
        seqs[conn] += 1
    for s in socks.values():
        s.close()
    with open(a.out, "wb") as f:
        f.write(out)
    print(f"{a.out}: {len(script)} exchanges", file=sys.stderr)


if __name__ == "__main__":
    main()
