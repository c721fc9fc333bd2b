#!/usr/bin/env python3
"""Origins for the shadowing end-to-end tests (--mirror-record, tapedeck-replay shadow): one small JSON
API in several builds, so that a test can put production and its shadows side by side.

usage: shadow_origin.py PORT MODE
  good    the reference build: every answer is a function of the request
  broken  as good, but GET /api/users/{id} answers "plan" as a number (a type change on one route)
  noisy   as good, plus "ts" (the time) and "nonce" (random) in every body: differs on every call
  slow    as good, 400 ms late
  reset   reads the request, then resets the connection (RST) without answering
GET /api/blob/N (any build but reset) answers N bytes of text, the first kilobyte sent 20 ms ahead of the
rest (a reader gets the answer in more than one read); broken changes the byte in the middle.
"""
import json
import os
import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
MODE = sys.argv[2]


def answer(path):
    if path.startswith("/api/users/"):
        uid = path.rsplit("/", 1)[1]
        plan = 3 if MODE == "broken" else "pro"
        return 200, {"id": int(uid) if uid.isdigit() else uid, "name": "user " + uid, "plan": plan}
    if path.startswith("/api/items"):
        return 200, {"items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 5}], "total": 2}
    if path == "/healthz":
        return 200, {"ok": True}
    return 404, {"error": "no such route", "path": path}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if MODE == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if MODE == "slow":
            time.sleep(0.4)
        if self.path.startswith("/api/blob/"):
            n = int(self.path.rsplit("/", 1)[1])
            blob = bytearray((b"0123456789abcdef" * (n // 16 + 1))[:n])
            if MODE == "broken" and n:
                blob[n // 2] = ord("!")
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % n + blob[:1024])
            self.wfile.flush()
            time.sleep(0.02)
            self.wfile.write(blob[1024:])
            return
        status, body = answer(self.path.split("?", 1)[0])
        if MODE == "noisy":
            body["ts"] = time.time()
            body["nonce"] = os.urandom(6).hex()
        data = json.dumps(body).encode()
        head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
            status, "OK" if status == 200 else "Not Found", len(data))
        # one write: a head and a body sent apart meet the peer's delayed ACK (40 ms a request)
        self.wfile.write(head.encode() + (b"" if self.command == "HEAD" else data))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 256  # the mirror opens several connections at once
ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
