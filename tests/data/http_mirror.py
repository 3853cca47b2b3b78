#!/usr/bin/env python3
"""A local stand-in for the data servers, for the data-fetch tests (no internet in CI).

Serves a data folder (--root) under the URL paths the atlas manifests and the dataset manifest list
(the path of each download's URL) and under the folder's own layout (/atlases/...), with HTTP range
requests. A file the source holds uncompressed ("stored": "gzip") is served decompressed; release
archives (AAL's zips, one inside the other for AAL116) are built from the folder's files.
Faults on request: --drop PATH:BYTES sends only BYTES of PATH's first response, then closes the
connection; --corrupt PATH changes one byte of every response for PATH. Prints "PORT n" when ready.
"""
import argparse, gzip, io, json, os, sys, threading, zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--manifests", required=True)
parser.add_argument("--dataset", action="append", default=[])
parser.add_argument("--drop", action="append", default=[])
parser.add_argument("--corrupt", action="append", default=[])
parser.add_argument("--log")
args = parser.parse_args()

routes = {}      # URL path -> (local file, serve decompressed)
archives = {}    # URL path -> [(inner zip or "", member, local file, decompress)]


def add(d):
    local = os.path.join(args.root, d["path"])
    plain = d.get("stored") == "gzip"
    routes["/" + d["path"]] = (local, False)
    if "url" in d:
        routes[urlparse(d["url"]).path] = (local, plain)
    if "archive" in d:
        a = d["archive"]
        archives.setdefault(urlparse(a["url"]).path, []).append((a.get("inner", ""), a["member"], local, plain))


for atlas in os.listdir(args.manifests):
    path = os.path.join(args.manifests, atlas, "manifest.json")
    if not os.path.exists(path):
        continue
    for d in json.load(open(path)).get("downloads", []):
        add(d)
for path in args.dataset:
    dataset = json.load(open(path))
    for atlas, a in dataset["atlases"].items():
        for d in a["files"]:
            add(d)
        for scan in dataset["scans"]:
            if atlas in scan["files"]:
                add({"path": a["path"].replace("{file_id}", scan["file_id"]), "url": a["url"].replace("{file_id}", scan["file_id"]),
                     "stored": a.get("stored")})


def read(local, plain):
    return gzip.open(local, "rb").read() if plain else open(local, "rb").read()


def build_zip(members):
    """The release archive: members at the top (as the AAL3 zip) or inside an inner zip (as AAL116's)."""
    def pack(items):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in items:
                z.writestr(name, data)
        return buf.getvalue()
    top, inner = [], {}
    for inner_name, member, local, plain in members:
        if not os.path.exists(local):
            return None
        (inner.setdefault(inner_name, []) if inner_name else top).append(("release/" + member, read(local, plain)))
    return pack(top + [(name, pack(items)) for name, items in inner.items()])
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
        data = None
        if path in routes and os.path.exists(routes[path][0]):
            data = read(*routes[path])
        elif path in archives:
            data = build_zip(archives[path])
        if data is None:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
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
