#!/usr/bin/env python3
"""A webhook receiver for the tests (tests/e2e/notify_*.sh), as docs/operations.md
("Webhooks") tells a receiver to verify a delivery.

usage: webhook_receiver.py DIR SECRET_FILE PORT

Listens on 127.0.0.1:PORT (0: an ephemeral port), writes the port to DIR/port,
and appends one JSON line per POST to DIR/got.jsonl: the path, whether the
signature verified ("ok"), the status answered, the event id header and the
parsed payload.  A delivery whose X-Spotcheck-Signature does not verify, whose
time is more than five minutes off, or whose event header is not the payload's
id is answered 401.  Otherwise the answer is DIR/status's number when that file
exists (a 3xx comes with a Location), else 204.
"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

DIR, SECRET_FILE, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(SECRET_FILE, "rb") as f:
    SECRET = f.read().strip()


def verify(headers, body):
    """The receiver's check: t=T,v1=HEX with HEX = HMAC-SHA256(secret, T "." body)."""
    fields = dict(p.split("=", 1) for p in headers.get("X-Spotcheck-Signature", "").split(",") if "=" in p)
    if "t" not in fields or "v1" not in fields:
        return False
    want = hmac.new(SECRET, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, fields["v1"]):
        return False
    return abs(time.time() - int(fields["t"])) <= 300


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = verify(self.headers, body)
        try:
            payload = json.loads(body)
        except ValueError:
            payload, ok = None, False
        if ok and (not isinstance(payload, dict) or payload.get("id") != self.headers.get("X-Spotcheck-Event")):
            ok = False
        status = 204
        if not ok:
            status = 401
        elif os.path.exists(os.path.join(DIR, "status")):
            with open(os.path.join(DIR, "status")) as f:
                status = int(f.read().strip())
        with open(os.path.join(DIR, "got.jsonl"), "a") as f:
            f.write(json.dumps({"path": self.path, "ok": ok, "status": status,
                                "event": self.headers.get("X-Spotcheck-Event"),
                                "payload": payload}) + "\n")
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
