#!/usr/bin/env python3
"""A local stand-in for the data servers, for the data-fetch tests (no internet in CI).

Serves a data folder (--root) under the URL paths the atlas manifests list (the path of each
download's URL) and under the folder's own layout (/atlases/...), with HTTP range requests.
Faults on request: --drop PATH:BYTES sends only BYTES of PATH's first response, then closes the
connection; --corrupt PATH changes one byte of every response for PATH. Prints "PORT n" when ready.
"""
import argparse, json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--manifests", required=True)
parser.add_argument("--drop", action="append", default=[])
parser.add_argument("--corrupt", action="append", default=[])
parser.add_argument("--log")
args = parser.parse_args()

routes = {}
for atlas in os.listdir(args.manifests):
    path = os.path.join(args.manifests, atlas, "manifest.json")
    if not os.path.exists(path):
        continue
    for d in json.load(open(path)).get("downloads", []):
        local = os.path.join(args.root, d["path"])
        routes["/" + d["path"]] = local
        if "url" in d:
            routes[urlparse(d["url"]).path] = local
drops = {p: int(n) for p, n in (x.rsplit(":", 1) for x in args.drop)}
corrupt = set(args.corrupt)
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        path = urlparse(self.path).path
        rng = self.headers.get("Range", "")
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write(f"GET {path} {rng}\n")
        local = routes.get(path)
        if not local or not os.path.exists(local):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = open(local, "rb").read()
        if path in corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        if rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with lock:
            cut = drops.pop(path, None)
        if cut is not None:
            self.wfile.write(data[start:start + cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data[start:])


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
