#!/usr/bin/env python3
"""Test origin for the tapedeck-proxy end-to-end tests: a raw-socket HTTP/1.1 server whose answers cover
the framings a proxy must pass through unchanged (chunked, close-delimited, 1xx, 204, HEAD, Upgrade) and
a few it must refuse (an ambiguous response). Every request it receives is appended to a log file, one
line per request: "METHOD TARGET sha256(body) len(body)" -- the origin's own view of what reached it.

usage: proxy_origin.py PORT LOGFILE
"""
import hashlib
import socket
import sys
import threading
import time
import urllib.parse

PORT = int(sys.argv[1])
LOG = sys.argv[2]
log_lock = threading.Lock()


def log(line):
    with log_lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n")
        l, self.buf = self.buf[:i], self.buf[i + 2:]
        return l

    def read(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def head(self):
        start = self.line()
        while start == b"":
            start = self.line()
        hdrs = []
        while True:
            l = self.line()
            if l == b"":
                break
            k, _, v = l.partition(b":")
            hdrs.append((k.strip().lower().decode("latin1"), v.strip().decode("latin1")))
        return start.decode("latin1"), hdrs

    def body(self, hdrs):
        h = dict(hdrs)
        if h.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    while self.line() != b"":
                        pass
                    return out
                out += self.read(size)
                self.read(2)
        n = int(h.get("content-length", "0"))
        return self.read(n)


def pattern(n):
    """The /bytes body: every byte value, shifted by the block number, so a misplaced piece shows."""
    return b"".join(bytes((i + j // 256) % 256 for i in range(256)) for j in range(0, n + 255, 256))[:n]


def send(s, status, body=b"", headers=(), head_only=False, reason="OK"):
    hs = "".join("%s: %s\r\n" % kv for kv in headers)
    if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        hs += "Content-Length: %d\r\n" % len(body)
    s.sendall(("HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason, hs)).encode() + (b"" if head_only else body))


def handle(sock):
    c = Conn(sock)
    try:
        while True:
            start, hdrs = c.head()
            method, target, version = start.split(" ")
            h = dict(hdrs)
            path, _, query = target.partition("?")
            path = "/" + path.rsplit("/", 1)[-1]  # /api/echo behaves as /echo
            if path == "/continue" and h.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if path == "/ws":
                log("%s %s - 0" % (method, target))
                sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
                data = c.buf
                c.buf = b""
                while True:
                    if data:
                        sock.sendall(data.upper())
                    data = sock.recv(65536)
                    if not data:
                        return
            body = c.body(hdrs)
            log("%s %s %s %d" % (method, target, hashlib.sha256(body).hexdigest(), len(body)))
            head_only = method == "HEAD"
            if path == "/echo" or path == "/continue":
                send(sock, 200, body, [("Content-Type", "application/octet-stream")], head_only)
            elif path == "/chunked":
                parts = [b"first chunk\n", b"x" * 5000, b"\nlast chunk\n"]
                out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                if not head_only:
                    out += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
                sock.sendall(out)
            elif path == "/close":
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"until close\n" * 100)
                return
            elif path == "/hints":
                sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
                send(sock, 200, b"after hints\n")
            elif path == "/204":
                sock.sendall(b"HTTP/1.1 204 No Content\r\nX-Test: yes\r\n\r\n")
            elif path == "/304":
                sock.sendall(b"HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\n\r\n")
            elif path == "/hop":  # ?N: N fields named in Connection (hop-by-hop), beside one that is not
                names = ["X-Hop%d" % i for i in range(int(query or "2"))]
                send(sock, 200, b"hop\n", [("Connection", ", ".join(["keep-alive"] + names))]
                     + [(n, "1") for n in names] + [("Keep-Alive", "timeout=5"), ("X-Kept", "yes")])
            elif path == "/bytes":  # n bytes of a fixed pattern, in one write or in pieces of p bytes
                q = urllib.parse.parse_qs(query)
                n, piece = int(q.get("n", ["0"])[0]), int(q.get("p", ["0"])[0])
                out = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n
                if not head_only:
                    out += pattern(n)
                piece = piece or len(out)
                for i in range(0, len(out), piece):
                    sock.sendall(out[i:i + piece])
                    if piece < len(out):
                        time.sleep(0.002)
            elif path == "/head":
                send(sock, 200, b"z" * 1234, [("Content-Type", "text/plain")], head_only)
            elif path == "/slow":
                ms = int(urllib.parse.parse_qs(query).get("ms", ["1000"])[0])
                time.sleep(ms / 1000.0)
                send(sock, 200, b"slow done\n")
            elif path == "/hang":
                time.sleep(30)
                return
            elif path == "/bad-cl-te":
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsmuggled!")
            elif path == "/secret":
                send(sock, 200, b"ok\n", [("Set-Cookie", "session=" + h.get("authorization", "none"))])
            else:
                send(sock, 200, ("%s %s\n" % (method, target)).encode(), [("Content-Type", "text/plain")],
                     head_only)
            if h.get("connection", "").lower() == "close" or version == "HTTP/1.0":
                return
    except (EOFError, ConnectionError, ValueError, OSError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", PORT))
    ls.listen(256)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=handle, args=(s,), daemon=True).start()


if __name__ == "__main__":
    main()
