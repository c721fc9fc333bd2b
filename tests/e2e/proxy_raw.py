#!/usr/bin/env python3
"""Raw-socket client for the proxy tests: sends stdin's bytes to HOST:PORT as they are, then prints
what comes back until the server closes the connection or stays silent for WAIT seconds.
Exit status: 0 the server closed the connection, 3 it was still open after WAIT, 4 connect failed.

usage: proxy_raw.py PORT [WAIT] [--half-close]
"""
import socket
import sys

port = int(sys.argv[1])
wait = float(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else 2.0
data = sys.stdin.buffer.read()
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
except OSError as e:
    print("connect: %s" % e, file=sys.stderr)
    sys.exit(4)
s.sendall(data)
if "--half-close" in sys.argv:
    s.shutdown(socket.SHUT_WR)
s.settimeout(wait)
out = b""
closed = False
try:
    while True:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        out += d
except socket.timeout:
    pass
except ConnectionResetError:
    closed = True
sys.stdout.buffer.write(out)
sys.exit(0 if closed else 3)
