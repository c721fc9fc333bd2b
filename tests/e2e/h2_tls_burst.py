#!/usr/bin/env python3
"""An HTTP/2-over-TLS client that puts many TLS records in one TCP write: the preface and SETTINGS, then
one HEADERS frame per record, all encrypted into a memory BIO first and sent with one sendall. With
read-ahead the proxy's first read takes all of them; every stream must still be answered (a record left
buffered inside OpenSSL, with no more socket events to come, would stall its stream).

usage: h2_tls_burst.py PORT STREAMS     prints "answered N of STREAMS", exits 0 when all were
"""
import socket
import ssl
import struct
import sys
import time

PORT, N = int(sys.argv[1]), int(sys.argv[2])
HEADERS, SETTINGS, DATA = 1, 4, 0
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, stream) + payload


def lit(name, value):  # HPACK literal without indexing, new name, no Huffman
    return b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2"])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
while True:  # the handshake through the memory BIOs
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        if out.pending:
            sock.sendall(out.read())
        data = sock.recv(65536)
        if not data:
            sys.exit("handshake: connection closed")
        inc.write(data)
if out.pending:
    sock.sendall(out.read())
if tls.selected_alpn_protocol() != "h2":
    sys.exit("ALPN did not select h2")

block = lit(":method", "GET") + lit(":scheme", "https") + lit(":path", "/hello") + lit(":authority", "localhost")
tls.write(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))
for i in range(N):
    tls.write(frame(HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i, block))  # one record each
sock.sendall(out.read())

done, buf, deadline = set(), b"", time.time() + 10
while len(done) < N and time.time() < deadline:
    try:
        data = sock.recv(65536)
    except socket.timeout:
        break
    if not data:
        break
    inc.write(data)
    try:
        while True:
            buf += tls.read(65536)
    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
        pass
    while len(buf) >= 9:
        n = int.from_bytes(buf[:3], "big")
        if len(buf) < 9 + n:
            break
        ftype, flags, sid = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
        buf = buf[9 + n:]
        if ftype == SETTINGS and not flags & ACK:
            tls.write(frame(SETTINGS, ACK, 0))
            sock.sendall(out.read())
        if ftype in (HEADERS, DATA) and flags & END_STREAM:
            done.add(sid)
print(f"answered {len(done)} of {N}")
sys.exit(0 if len(done) == N else 1)
