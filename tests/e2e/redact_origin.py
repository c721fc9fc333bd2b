#!/usr/bin/env python3
"""A small stateful notes API for the redaction end-to-end test: it hands out secrets (a session, an
API key, ids) that later requests must send back, so a capture whose secrets were replaced by tokens only
replays if the tokens are consistent and the replayer's correlation maps them to the candidate's values.
Every secret it makes contains the marker given by --marker, so a test can grep a capture for it.

  POST   /api/login           form user=&password=        -> {"user", "session"}, Set-Cookie: sid=SESSION
  POST   /api/notes           JSON {"title", "owner": {"email"}, "card"}, X-Session
                                                          -> 201 {"id", "title", "owner", "apiKey"}
  GET    /api/notes?id=N      X-Session, X-Api-Key        -> the note (gzip when accepted)
  PATCH  /api/notes           JSON {"id", "title"}, X-Session, X-Api-Key -> the note (chunked)
  DELETE /api/notes?id=N      X-Session, X-Api-Key        -> 204
  POST   /api/raw             anything                    -> 400 {"error": "bad json"} unless it is JSON
Every route wants "Authorization: Bearer TOKEN" (--token). Ids count from --id-start.

usage: redact_origin.py PORT --token TOKEN [--id-start N] [--marker TEXT]
"""
import argparse
import gzip
import json
import secrets
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--token", required=True)
ap.add_argument("--id-start", type=int, default=1)
ap.add_argument("--marker", default="S3CR3T")
opt = ap.parse_args()

state = {"next": opt.id_start, "notes": {}, "sessions": set()}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, status, obj, chunked=False, cookie=None):
        body = json.dumps(obj).encode()
        gz = "gzip" in (self.headers.get("Accept-Encoding") or "")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if cookie:
            self.send_header("Set-Cookie", cookie)
        if gz and not chunked:
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(body) // 2
            for part in (body[:half], body[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def note(self, q):
        try:
            n = state["notes"].get(int(q))
        except (TypeError, ValueError):
            n = None
        if n and self.headers.get("X-Api-Key") != n["apiKey"]:
            return "forbidden"
        return n

    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        raw = self.body()
        if self.headers.get("Authorization") != "Bearer " + opt.token:
            return self.send_json(401, {"error": "bad token"})
        if u.path == "/api/raw":
            try:
                json.loads(raw)
                return self.send_json(200, {"ok": True})
            except ValueError:
                return self.send_json(400, {"error": "bad json"})
        if u.path == "/api/login" and self.command == "POST":
            f = urllib.parse.parse_qs(raw.decode())
            s = "sess-%s-%s" % (opt.marker, secrets.token_hex(8))
            state["sessions"].add(s)
            return self.send_json(200, {"user": f.get("user", ["?"])[0], "session": s},
                                  cookie="sid=%s; Path=/; HttpOnly" % s)
        if self.headers.get("X-Session") not in state["sessions"]:
            return self.send_json(401, {"error": "no session"})
        if u.path != "/api/notes":
            return self.send_json(404, {"error": "no route"})
        if self.command == "POST":
            b = json.loads(raw)
            i = state["next"]
            state["next"] += 1
            n = {"id": i, "title": b["title"], "owner": b["owner"],
                 "apiKey": "key-%s-%s" % (opt.marker, secrets.token_hex(8))}
            state["notes"][i] = n
            return self.send_json(201, n)
        if self.command == "PATCH":
            b = json.loads(raw)
            n = self.note(b.get("id"))
        else:
            n = self.note((q.get("id") or [None])[0])
        if n is None:
            return self.send_json(404, {"error": "no such note"})
        if n == "forbidden":
            return self.send_json(403, {"error": "wrong api key"})
        if self.command == "PATCH":
            n["title"] = b["title"]
            return self.send_json(200, n, chunked=True)
        if self.command == "DELETE":
            del state["notes"][n["id"]]
            self.send_response(204)
            self.end_headers()
            return
        return self.send_json(200, n)

    do_GET = do_POST = do_PATCH = do_DELETE = handle_any


ThreadingHTTPServer(("127.0.0.1", opt.port), H).serve_forever()
