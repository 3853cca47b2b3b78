#!/usr/bin/env python3
"""Seeds for fuzz_timeseries: byte 0 picks the format (0 .1D, 1 .csv, 2 .tsv, 3 .npy), the rest is the file."""
import gzip, os, struct, sys

out, abide = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)

def put(name, fmt, body):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([fmt]) + body)

files = sorted(f for f in os.listdir(abide) if f.endswith(".1D"))[:3] if os.path.isdir(abide) else []
for i, f in enumerate(files):
    with open(os.path.join(abide, f), "rb") as src:
        lines = src.read().splitlines(keepends=True)[:6]  # header and five time points
    body = b"".join(lines)
    put(f"abide{i}.1D", 0, body)
    put(f"abide{i}.1D.gz", 0, gzip.compress(body))
put("plain.1D", 0, b"1 2 3\n4 5 6\n0 0 1e-3\n")
put("named.csv", 1, b"a,b,c\n1,2,3\n4.5,-6,7e2\n")
put("numeric.csv", 1, b"1,2\n3,4\n")
put("named.tsv", 2, b"x\ty\n0.1\t0.2\n0.3\t0.4\n")
put("named.tsv.gz", 2, gzip.compress(b"x\ty\n0.1\t0.2\n0.3\t0.4\n"))

def npy(descr, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * (63 - len(header) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload

put("f8.npy", 3, npy("<f8", "(2, 3)", struct.pack("<6d", 1, 2, 3, 4, 5, 6)))
put("f4.npy", 3, npy("<f4", "(3,)", struct.pack("<3f", 1, 2, 3)))
put("i8.npy", 3, npy("<i8", "(2, 2)", struct.pack("<4q", 1, 2, 3, 4)))
put("i2.npy", 3, npy("<i2", "(1, 2)", struct.pack("<2h", 1, 2)))
