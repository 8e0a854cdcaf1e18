#!/usr/bin/env python3
"""A webhook receiver that hangs, for the tests (tests/e2e/notify_*.sh): it
accepts every connection, reads the request's headers, and never answers.

usage: webhook_hang.py DIR

Listens on 127.0.0.1 on an ephemeral port, writes the port to DIR/port, and
appends to DIR/hang.jsonl one JSON line when a request's headers are in
({"open": EVENT, "conn": N, "t": SECONDS}, EVENT its X-Spotcheck-Event, N the
connection's number) and one when the sender closes that connection
({"close": EVENT, "conn": N, "t": SECONDS}): an attempt's start and end as
the receiver saw them.
"""
import json
import os
import selectors
import socket
import sys
import time

DIR = sys.argv[1]
sel = selectors.DefaultSelector()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
srv.setblocking(False)
sel.register(srv, selectors.EVENT_READ, None)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
log = open(os.path.join(DIR, "hang.jsonl"), "a", buffering=1)


def note(**kw):
    kw["t"] = time.time()
    log.write(json.dumps(kw) + "\n")


conns = 0
while True:
    for key, _ in sel.select():
        if key.data is None:
            c, _ = srv.accept()
            c.setblocking(False)
            conns += 1
            sel.register(c, selectors.EVENT_READ, {"buf": b"", "event": None, "conn": conns})
            continue
        c, st = key.fileobj, key.data
        try:
            chunk = c.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            if st["event"] is not None:
                note(close=st["event"], conn=st["conn"])
            sel.unregister(c)
            c.close()
            continue
        if st["event"] is None:
            st["buf"] += chunk
            head, sep, _ = st["buf"].partition(b"\r\n\r\n")
            if sep:
                event = ""
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "x-spotcheck-event":
                        event = value.strip()
                st["event"] = event
                note(open=event, conn=st["conn"])
