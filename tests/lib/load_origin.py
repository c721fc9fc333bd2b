#!/usr/bin/env python3
"""A small HTTP/1.1 origin for load tests (keep-alive, one thread per connection).

usage: load_origin.py PORT [--delay PREFIX=MS]... [--stall-after N --stall-ms MS]
  --delay /api/slow=40     requests whose path starts with /api/slow wait 40 ms before answering
  --stall-after 300        the 300th request (1-based) stalls for --stall-ms (once), like a GC pause
Every answer is 200 with a small JSON body."""
import argparse
import http.server
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--delay", action="append", default=[])
    ap.add_argument("--stall-after", type=int, default=0)
    ap.add_argument("--stall-ms", type=float, default=500)
    a = ap.parse_args()
    delays = []
    for d in a.delay:
        prefix, ms = d.split("=")
        delays.append((prefix, float(ms) / 1000.0))
    lock = threading.Lock()
    count = [0]
    stall = threading.Event()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            with lock:
                count[0] += 1
                k = count[0]
            if a.stall_after and k == a.stall_after:
                stall.set()
                time.sleep(a.stall_ms / 1000.0)  # the whole origin stops: others wait for this one
                stall.clear()
            while stall.is_set():
                time.sleep(0.001)
            for prefix, s in delays:
                if self.path.startswith(prefix):
                    time.sleep(s)
            body = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 512  # the default backlog of 5 drops SYNs when a pool connects at once: 1 s retries

    srv = Server(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
