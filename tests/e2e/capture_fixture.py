#!/usr/bin/env python3
"""The exchanges the capture_*.sh tests write with tests/lib/mkcapture.py (JSON on stdout): one of each
kind a capture holds. Times are fixed (2026-01-01T00:00:00Z + i * 100 ms), so listings are exact."""
import base64
import gzip
import json

profile = json.dumps({"user": "ada", "trips": 12, "units": "km"}).encode()
gz = gzip.compress(profile, mtime=0)
png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(32))
ex = [
    {"request": "GET /api/trips/42?full=1 HTTP/1.1\r\nHost: api.test\r\nUser-Agent: t/1\r\n\r\n",
     "response": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"id\":42,\"a\":1}",
     "latency_ms": 12.5, "client": "127.0.0.1:50000", "conn": 1, "seq": 0},
    {"request": "POST /api/trips HTTP/1.1\r\nHost: api.test\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n{\"x\":\"y\"}",
     "response": "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"id\r\n5\r\n\":43}\r\n0\r\n\r\n",
     "interim": [100], "latency_ms": 30, "conn": 1, "seq": 1},
    {"request": "GET /api/trips/43 HTTP/1.1\r\nHost: api.test\r\n\r\n", "error": "connect: Connection refused",
     "conn": 2, "seq": 0},
    {"request": "GET /img/1.png HTTP/1.1\r\nHost: api.test\r\n\r\n",
     "response_b64": base64.b64encode(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n"
                                      % len(png) + png).decode(), "latency_ms": 2, "conn": 3, "seq": 0},
    {"request": "GET /api/profile HTTP/1.1\r\nHost: api.test\r\nAccept-Encoding: gzip\r\n\r\n",
     "response_b64": base64.b64encode(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                                      b"Content-Length: %d\r\n\r\n" % len(gz) + gz).decode(),
     "latency_ms": 8, "conn": 3, "seq": 1},
    {"request": "HEAD /api/trips/42 HTTP/1.1\r\nHost: api.test\r\n\r\n",
     "response": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n",
     "latency_ms": 1, "conn": 3, "seq": 2},
    {"request": "GET /api/trips/7f3e9a1b2c4d HTTP/1.1\r\nHost: api.test\r\n\r\n",
     "response": "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", "latency_ms": 4, "conn": 4, "seq": 0},
    {"request": "PUT /api/pois/123 HTTP/1.1\r\nHost: api.test\r\nContent-Length: 100\r\n\r\n0123456789",
     "response": "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", "truncated": ["request"],
     "latency_ms": 50, "conn": 5, "seq": 0},
]
print(json.dumps({"warcinfo": {"upstream": "http://api.test"}, "exchanges": ex}, indent=1))
