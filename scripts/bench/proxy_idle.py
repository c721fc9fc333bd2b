#!/usr/bin/env python3
"""Opens N keep-alive connections to 127.0.0.1:PORT, sends one GET on each and reads its response, then
keeps them all open and idle until the file STOP exists (or 60 s pass). Prints "ready N" on stdout once
every connection has had its response, so the caller can measure the server's memory at that point.

usage: proxy_idle.py PORT N PATH STOPFILE
"""
import os
import selectors
import socket
import sys
import time

port, n, path, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
req = ("GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path).encode()
sel = selectors.DefaultSelector()
socks = []
done = 0
deadline = time.time() + 120
pending = 0
i = 0
while (i < n or pending) and time.time() < deadline:
    # keep at most 500 connects/requests in flight: a SYN flood would only overflow the backlog
    while i < n and pending < 500:
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        sel.register(s, selectors.EVENT_WRITE, [b"", False])
        socks.append(s)
        pending += 1
        i += 1
    for key, ev in sel.select(timeout=1):
        s, st = key.fileobj, key.data
        if ev & selectors.EVENT_WRITE and not st[1]:
            try:
                s.send(req)
            except OSError:
                sel.unregister(s)
                pending -= 1
                continue
            st[1] = True
            sel.modify(s, selectors.EVENT_READ, st)
            continue
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d:
            sel.unregister(s)
            pending -= 1
            continue
        st[0] += d
        head, sep, body = st[0].partition(b"\r\n\r\n")
        if sep:
            cl = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    cl = int(line.split(b":")[1])
            if len(body) >= cl:
                sel.unregister(s)
                pending -= 1
                done += 1
print("ready %d" % done, flush=True)
end = time.time() + 60
while not os.path.exists(stop) and time.time() < end:
    time.sleep(0.1)
for s in socks:
    s.close()
