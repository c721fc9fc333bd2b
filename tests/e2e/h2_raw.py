#!/usr/bin/env python3
"""A raw HTTP/2 client for the proxy's h2 tests: frames written by hand with struct, HPACK literals
without Huffman, so each test can send exactly the frames an attacker or a broken client would.

usage: h2_raw.py PORT SCENARIO     (cleartext, prior knowledge: the proxy runs with --h2c)
Prints one line "result: ..." describing what the proxy did, exits 0 when that is what the scenario
expects, 1 otherwise.
"""
import socket
import struct
import sys
import time

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
PROTOCOL_ERROR, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 0x1, 0x7, 0x8, 0xB

PORT = int(sys.argv[1])
SCENARIO = sys.argv[2]


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, stream & 0x7FFFFFFF) + payload


def hint(v, prefix_bits, first=0):
    """HPACK integer (RFC 7541 5.1) with the high bits of the first byte set to first."""
    top = (1 << prefix_bits) - 1
    if v < top:
        return bytes([first | v])
    out = [first | top]
    v -= top
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    out.append(v)
    return bytes(out)


def lit(name, value, index=False):
    """Literal field, new name: without indexing (0x00) or with incremental indexing (0x40)."""
    name, value = name.encode() if isinstance(name, str) else name, value.encode() if isinstance(value, str) else value
    return (b"\x40" if index else b"\x00") + hint(len(name), 7) + name + hint(len(value), 7) + value


def request_block(method="GET", path="/", extra=()):
    b = lit(":method", method) + lit(":scheme", "http") + lit(":path", path) + lit(":authority", "test.local")
    for n, v in extra:
        b += lit(n, v)
    return b


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        self.buf = b""
        self.closed = False
        self.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))

    def send(self, b):
        try:
            self.s.sendall(b)
            return True
        except OSError:
            self.closed = True
            return False

    def frames(self, timeout=2.0, until=None):
        """Reads frames for up to timeout seconds (or until until(frame) is true, or the peer closes)."""
        out, end = [], time.time() + timeout
        while time.time() < end and not self.closed:
            while len(self.buf) >= 9:
                n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) < 9 + n:
                    break
                t, fl, sid = struct.unpack(">BBI", self.buf[3:9])
                f = (t, fl, sid & 0x7FFFFFFF, self.buf[9:9 + n])
                self.buf = self.buf[9 + n:]
                out.append(f)
                if t == SETTINGS and not fl & ACK:
                    self.send(frame(SETTINGS, ACK, 0))
                if until and until(f):
                    return out
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                self.closed = True
                break
            if not d:
                self.closed = True
                break
            self.buf += d
        return out


def goaway_code(fs):
    for t, _, _, p in fs:
        if t == GOAWAY and len(p) >= 8:
            return struct.unpack(">I", p[4:8])[0]
    return None


def rst_codes(fs):
    return {sid: struct.unpack(">I", p[:4])[0] for t, _, sid, p in fs if t == RST_STREAM and len(p) >= 4}


def body_of(fs, sid):
    return b"".join(p for t, _, s, p in fs if t == DATA and s == sid)


def ended(fs, sid):
    return any(s == sid and fl & END_STREAM and t in (DATA, HEADERS) for t, fl, s, _ in fs)


def get_ok(c, sid, path="/after"):
    """A plain GET on c: its answer is the origin's 'GET /after' body."""
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, sid, request_block("GET", path)))
    fs = c.frames(5.0, until=lambda f: f[2] == sid and f[1] & END_STREAM)
    return b"GET " + path.encode() in body_of(fs, sid)


def result(ok, what):
    print("result: %s: %s" % ("expected" if ok else "UNEXPECTED", what))
    sys.exit(0 if ok else 1)


def flood(ftype, payload_fn, n, what):
    c = Conn()
    c.frames(0.5)
    sent = 0
    for i in range(n):
        if not c.send(frame(ftype, 0, 0, payload_fn(i))):
            break
        sent += 1
    fs = c.frames(5.0, until=lambda f: f[0] == GOAWAY)
    code = goaway_code(fs)
    result(code == ENHANCE_YOUR_CALM, "%s: %d sent, GOAWAY %s" % (what, sent, code))


def main():
    if SCENARIO == "rapid-reset":  # CVE-2023-44487: open and cancel streams as fast as possible
        c = Conn()
        c.frames(0.5)
        sid, sent = 1, 0
        for _ in range(5000):
            if not c.send(frame(HEADERS, END_HEADERS, sid, request_block("GET", "/slow?ms=200")) +
                          frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))):
                break
            sid += 2
            sent += 1
        fs = c.frames(5.0, until=lambda f: f[0] == GOAWAY)
        code = goaway_code(fs)
        result(code == ENHANCE_YOUR_CALM and sent < 5000 or code == ENHANCE_YOUR_CALM,
               "%d streams opened and reset, GOAWAY %s" % (sent, code))
    elif SCENARIO == "continuation":  # CVE-2024-27316 class: a header block that never ends
        c = Conn()
        c.frames(0.5)
        c.send(frame(HEADERS, 0, 1, request_block("GET", "/cont")))
        n = 0
        for i in range(10000):
            if not c.send(frame(CONTINUATION, 0, 1, lit("x-c%d" % i, "v" * 10))):
                break
            n += 1
        fs = c.frames(5.0, until=lambda f: f[0] == GOAWAY)
        code = goaway_code(fs)
        result(code is not None and code != 0, "%d CONTINUATION frames sent, GOAWAY %s" % (n, code))
    elif SCENARIO == "hpack-bomb":  # one 4 KB entry in the dynamic table, then referenced 4 000 times
        c = Conn()
        c.frames(0.5)
        block = request_block("GET", "/bomb") + lit("x-bomb", "b" * 4000, index=True) + b"\xbe" * 4000
        c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
        fs = c.frames(5.0, until=lambda f: f[2] == 1 and f[1] & END_STREAM or f[0] in (GOAWAY, RST_STREAM))
        answered = b"too large" in body_of(fs, 1)
        healthy = get_ok(c, 3)
        result(answered and healthy and goaway_code(fs) is None,
               "decoded 16 MB header list: 431 %s, same connection then %s" % (answered, "works" if healthy else "broken"))
    elif SCENARIO == "streams":  # every allowed stream held open (no body), then more than allowed
        c = Conn()
        c.frames(0.5)  # our ACK of the proxy's SETTINGS goes out here
        for i in range(100):
            c.send(frame(HEADERS, END_HEADERS, 1 + 2 * i, request_block("POST", "/echo", [("content-length", "10")])))
        c.frames(1.0)
        other = get_ok(Conn(), 1)  # another client meanwhile
        for i in range(100, 150):
            c.send(frame(HEADERS, END_HEADERS, 1 + 2 * i, request_block("POST", "/echo", [("content-length", "10")])))
        fs = c.frames(3.0, until=lambda f: f[0] == GOAWAY)
        refused = [s for s, code in rst_codes(fs).items() if s > 200 and code in (REFUSED_STREAM, PROTOCOL_ERROR)]
        code = goaway_code(fs)
        # RFC 9113 5.1.2: a stream error or, as nghttp2 does once the limit is acknowledged, the connection
        result(other and (len(refused) >= 50 or code in (PROTOCOL_ERROR, ENHANCE_YOUR_CALM)),
               "100 streams held, another client %s; 50 more: %d refused, GOAWAY %s"
               % ("served" if other else "NOT served", len(refused), code))
    elif SCENARIO == "stall":  # streams whose request bodies never come: reset after --idle-timeout
        c = Conn()
        c.frames(0.5)
        for i in range(20):
            c.send(frame(HEADERS, END_HEADERS, 1 + 2 * i, request_block("POST", "/echo", [("content-length", "10")])))
        fs = c.frames(float(sys.argv[3]) + 3.0, until=lambda f: f[0] == GOAWAY)
        reset = rst_codes(fs)
        result(len(reset) == 20 or goaway_code(fs) is not None,
               "20 streams stalled inside their bodies: %d reset, GOAWAY %s" % (len(reset), goaway_code(fs)))
    elif SCENARIO == "settings-flood":
        flood(SETTINGS, lambda i: b"", 5000, "SETTINGS flood")
    elif SCENARIO == "ping-flood":
        flood(PING, lambda i: struct.pack(">Q", i), 5000, "PING flood")
    # ---- h2 twins of the HTTP/1 framing rules: the stream is refused, nothing reaches the upstream ----
    elif SCENARIO.startswith("bad-"):
        c = Conn()
        c.frames(0.5)
        path = "/" + SCENARIO
        hdrs = {
            "bad-connection": request_block("GET", path, [("connection", "keep-alive")]),
            "bad-method": request_block("GEZ", path),
            "bad-te": request_block("GET", path, [("te", "gzip")]),
            "bad-transfer-encoding": request_block("POST", path, [("transfer-encoding", "chunked")]),
            "bad-upper": request_block("GET", path, [("X-Upper", "1")]),
            "bad-pseudo-late": request_block("GET", path, [("x-a", "1"), (":protocol", "x")]),
            "bad-no-path": lit(":method", "GET") + lit(":scheme", "http") + lit(":authority", "t"),
            "bad-crlf": request_block("GET", path, [("x-inject", "a\r\nx-evil: 1")]),
            "bad-two-cl": request_block("POST", path, [("content-length", "3"), ("content-length", "4")]),
            "bad-host": request_block("GET", path, [("host", "other.example")]),
            "bad-cl-short": request_block("POST", path, [("content-length", "10")]),
            "bad-cl-long": request_block("POST", path, [("content-length", "3")]),
        }[SCENARIO]
        flags = END_HEADERS
        c.send(frame(HEADERS, flags, 1, hdrs))
        if SCENARIO == "bad-cl-short":  # 4 bytes, then the end: fewer than Content-Length
            c.send(frame(DATA, END_STREAM, 1, b"abcd"))
        elif SCENARIO == "bad-cl-long":  # 8 bytes against Content-Length 3
            c.send(frame(DATA, END_STREAM, 1, b"abcdefgh"))
        elif SCENARIO != "bad-cl-short":
            c.send(frame(DATA, END_STREAM, 1, b"xyz"))
        fs = c.frames(3.0, until=lambda f: f[2] == 1 and f[0] == RST_STREAM)
        code = rst_codes(fs).get(1)
        healthy = get_ok(c, 3)
        result(code == PROTOCOL_ERROR and healthy,
               "%s: stream reset with %s, connection then %s" % (SCENARIO, code, "works" if healthy else "broken"))
    elif SCENARIO == "header-list":  # 80 KB of ordinary fields in CONTINUATIONs: over the 64 KiB cap
        c = Conn()
        c.frames(0.5)
        block = request_block("GET", "/big", [("x-f%d" % i, "v" * 1000) for i in range(80)])
        parts = [block[i:i + 16000] for i in range(0, len(block), 16000)]
        c.send(frame(HEADERS, END_STREAM | (END_HEADERS if len(parts) == 1 else 0), 1, parts[0]))
        for i, p in enumerate(parts[1:]):
            c.send(frame(CONTINUATION, END_HEADERS if i == len(parts) - 2 else 0, 1, p))
        fs = c.frames(5.0, until=lambda f: f[2] == 1 and f[1] & END_STREAM)
        answered = b"too large" in body_of(fs, 1)
        healthy = get_ok(c, 3)
        result(answered and healthy, "80 KB header list: 431 %s, connection then %s" % (answered, healthy))
    elif SCENARIO == "slow-reader":  # a big response, never a WINDOW_UPDATE: at most the initial window comes
        c = Conn()
        c.frames(0.3)
        c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", sys.argv[3])))
        fs = c.frames(float(sys.argv[4]))
        got = len(body_of(fs, 1))
        open(sys.argv[5], "w").write("held\n")  # the caller measures the proxy now, while we hold on
        c.frames(float(sys.argv[4]))
        result(0 < got <= 65535, "DATA bytes received without WINDOW_UPDATE: %d" % got)
    elif SCENARIO == "ok":
        c = Conn()
        c.frames(0.3)
        result(get_ok(c, 1), "a plain GET")
    else:
        sys.exit("unknown scenario " + SCENARIO)


if __name__ == "__main__":
    main()
