#!/usr/bin/env python3
"""A raw-socket origin that answers every awkward way HTTP/1.1 allows, for the engine differential test
(check_engines.sh): both of the replayer's HTTP/1.1 clients (native, libcurl) meet the same bytes.

usage: engines_origin.py serve PORT          serve on 127.0.0.1:PORT (threads, one per connection)
       engines_origin.py capture OUT.json    the capture script (mkcapture.py input): the recorded
                                             conversation, responses as a healthy origin sent them

Routes (the response is written by hand, byte for byte):
  /json            200, Content-Length, keep-alive
  /chunked         chunked, with chunk extensions and a trailer
  /interim         100 Continue and 103 Early Hints, then 200
  /no-content      204 with a Content-Length (no body may follow)
  /not-modified    304 with a Content-Length (no body may follow)
  HEAD /head       200 with a Content-Length, no body
  /until-close     HTTP/1.1 200 without length: the body ends at the close
  /http10          HTTP/1.0 200 without length, ends at the close
  /close-mid       Connection: close in the middle of a recorded connection
  /gzip            gzip, chunked        /br   br, Content-Length
  /drip            head and body a few bytes at a time, 3 ms apart
  /big             10 MiB, Content-Length        /big-chunked  10 MiB in 64 KiB chunks
  /idle-close      200 keep-alive, then the server closes the connection while it is idle
  /reset           (replay) 1 000 of 100 000 bytes, then a reset     (recorded: whole)
  /hang            (replay) never answers                           (recorded: 200)
  /garbage         (replay) not HTTP at all                         (recorded: 200)
  /changed         (replay) another body than the recorded one: a diff
  /many-headers    300 header fields      /big-head  a 90 KB header field
  /te-gzip         Transfer-Encoding: gzip, chunked
  /no-reason       a status line without a reason phrase      /empty  Content-Length: 0
"""
import gzip
import json
import socket
import struct
import sys
import threading
import time

BR_DOC = json.dumps({"codec": "br", "items": [{"id": i, "name": "item %d" % i} for i in range(20)]}).encode()
# brotli.compress(BR_DOC), made once (the brotli module is not everywhere)
BR_BODY = bytes.fromhex(
    "1b7102c09c05766b5a637c9616bc562bc723d62022637b5d78441e0faafb89d7626469725a87a5ab2f21ed34c6ed1dbb48"
    "2328d4ac2e7c3696f3ed6b012e28ffe2bf0c3e08ac3c1be241a5e834238399c9ca62677372b8b9bcbcabe8105925bbeca8"
    "7056baaadcd59e1a6fad6fdcdc01")
BIG = bytes((i * 7 + (i >> 11)) & 0xFF for i in range(10 << 20))


def js(obj):
    return json.dumps(obj).encode()


def cl(status, body, ctype="application/json", extra=""):
    return (b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" %
            (status.encode(), ctype.encode(), len(body), extra.encode())) + body


def chunked(body, size, ctype="application/json", extra=""):
    out = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n%s\r\n" % (
        ctype.encode(), extra.encode())
    parts = [out]
    for i in range(0, len(body), size):
        parts.append(b"%x\r\n" % len(body[i:i + size]) + body[i:i + size] + b"\r\n")
    return b"".join(parts) + b"0\r\n\r\n"


def answer(method, path, replay):
    """(interim bytes, final response bytes, what to do after: keep|close|idle-close|reset|hang)."""
    if path == "/json":
        return b"", cl("200 OK", js({"ok": True, "path": path})), "keep"
    if path == "/chunked":
        body = js({"chunked": True, "n": list(range(50))})
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        parts = [body[:40], body[40:90], body[90:]]
        out = head
        for k, p in enumerate(parts):
            out += b"%X;ext%d=\"v %d\";flag\r\n" % (len(p), k, k) + p + b"\r\n"
        return b"", out + b"0;last=1\r\nX-Trailer: t1\r\nX-Checksum: abc\r\n\r\n", "keep"
    if path == "/interim":
        return (b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
                cl("200 OK", js({"after": "interim"})), "keep")
    if path == "/no-content":
        return b"", b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-A: b\r\n\r\n", "keep"
    if path == "/not-modified":
        return b"", b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 42\r\n\r\n", "keep"
    if path == "/head":
        body = js({"head": "never sent"})
        if method == "HEAD":
            return b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", "keep"
        return b"", cl("200 OK", body), "keep"
    if path == "/until-close":
        return b"", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"until the close\n" * 200, "close"
    if path == "/http10":
        return b"", b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nan HTTP/1.0 body to the close\n", "close"
    if path == "/close-mid":
        return b"", cl("200 OK", js({"closing": True}), extra="Connection: close\r\n"), "close"
    if path == "/gzip":
        return b"", chunked(gzip.compress(js({"codec": "gzip", "v": list(range(100))}), mtime=0), 37,
                            extra="Content-Encoding: gzip\r\n"), "keep"
    if path == "/br":
        return b"", cl("200 OK", BR_BODY, extra="Content-Encoding: br\r\n"), "keep"
    if path == "/drip":
        return b"", cl("200 OK", js({"drip": "slowly", "pad": "x" * 40})), "drip"
    if path == "/big":
        return b"", cl("200 OK", BIG, ctype="application/octet-stream"), "keep"
    if path == "/big-chunked":
        return b"", BIG_CHUNKED, "keep"
    if path == "/idle-close":
        return b"", cl("200 OK", js({"idle": "closing soon"})), "idle-close"
    if path == "/reset":
        body = b"r" * 100000
        return b"", cl("200 OK", body, ctype="text/plain"), "reset" if replay else "keep"
    if path == "/hang":
        return b"", cl("200 OK", js({"hang": False})), "hang" if replay else "keep"
    if path == "/garbage":
        if replay:
            return b"", b"HTP/1.1 200 OK\r\nthis is not HTTP\r\n\r\n", "close"
        return b"", cl("200 OK", js({"garbage": False})), "keep"
    if path == "/many-headers":
        return b"", cl("200 OK", js({"many": 300}), extra="".join("Set-Cookie: c%d=v%d; Path=/\r\n" % (i, i)
                                                               for i in range(300))), "keep"
    if path == "/big-head":
        return b"", cl("200 OK", js({"big": "head"}), extra="X-Big: %s\r\n" % ("h" * 90000)), "keep"
    if path == "/te-gzip":
        body = gzip.compress(js({"transfer": "gzip"}), mtime=0)
        return b"", chunked(body, 11).replace(b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked"), "keep"
    if path == "/no-reason":
        return b"", b"HTTP/1.1 200\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", "keep"
    if path == "/empty":
        return b"", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "keep"
    if path == "/changed":
        return b"", cl("200 OK", js({"value": "new" if replay else "old"})), "keep"
    return b"", cl("404 Not Found", js({"error": "no route " + path})), "keep"


BIG_CHUNKED = chunked(BIG, 65536, ctype="application/octet-stream")


def read_request(sock, buf):
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return None, None, b""
        buf += d
    end = buf.index(b"\r\n\r\n") + 4
    lines = buf[:end].decode("latin-1").split("\r\n")
    method, path = lines[0].split(" ")[:2]
    n = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            n = int(line.split(":", 1)[1])
    while len(buf) < end + n:
        d = sock.recv(65536)
        if not d:
            return None, None, b""
        buf += d
    return method, path, buf[end + n:]


def serve_conn(sock):
    buf = b""
    try:
        while True:
            method, path, buf = read_request(sock, buf)
            if method is None:
                return
            interim, final, after = answer(method, path.split("?")[0], True)
            if after == "hang":
                time.sleep(5)
                return
            if after == "drip":
                for i in range(0, len(final), 7):
                    sock.sendall(final[i:i + 7])
                    time.sleep(0.003)
                continue
            sock.sendall(interim + (final[:1000] if after == "reset" else final))
            if after == "reset":
                time.sleep(0.05)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if after == "close":
                sock.shutdown(socket.SHUT_WR)
                return
            if after == "idle-close":
                time.sleep(0.02)  # the client holds the connection idle in its pool by now
                return
    except OSError:
        return
    finally:
        sock.close()


def serve(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_conn, args=(s,), daemon=True).start()


# The recorded conversation: (recorded connection, method, path), in recorded order.
SCRIPT = [
    (1, "GET", "/json"), (1, "GET", "/chunked"), (1, "GET", "/interim"), (1, "GET", "/no-content"),
    (1, "GET", "/not-modified"), (1, "HEAD", "/head"), (1, "GET", "/json"),
    (2, "GET", "/json"), (2, "GET", "/close-mid"), (2, "GET", "/json"), (2, "GET", "/gzip"), (2, "GET", "/br"),
    (3, "GET", "/until-close"),
    (4, "GET", "/http10"),
    (5, "GET", "/drip"), (5, "GET", "/json"),
    (6, "GET", "/big"), (6, "GET", "/big-chunked"),
    (7, "GET", "/idle-close"), (7, "GET", "/json"), (7, "GET", "/idle-close"), (7, "GET", "/json"),
    (8, "GET", "/reset"),
    (9, "GET", "/hang"),
    (10, "GET", "/garbage"),
    (11, "GET", "/changed"), (11, "POST", "/json"),
    (12, "GET", "/many-headers"), (12, "GET", "/big-head"), (12, "GET", "/te-gzip"), (12, "GET", "/no-reason"),
    (12, "GET", "/empty"), (12, "GET", "/json"),
]


def capture(out, port):
    import base64
    xs = []
    seq = {}
    for i, (conn, method, path) in enumerate(SCRIPT):
        body = b'{"posted":1}' if method == "POST" else b""
        req = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\n" %
               (method, path, port)).encode()
        if body:
            req += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        req += b"\r\n" + body
        interim, final, _ = answer(method, path, False)
        x = {"request_b64": base64.b64encode(req).decode(), "response_b64": base64.b64encode(final).decode(),
             "conn": conn, "seq": seq.get(conn, 0), "start_us": 1796205600000000 + i * 10000}
        if interim:
            x["interim"] = [100, 103]
        seq[conn] = seq.get(conn, 0) + 1
        xs.append(x)
    json.dump(xs, open(out, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        capture(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 80)
