"""Reader and writer for golden logit files (*.lpugold).

Layout (little-endian), chosen so a C++ test can read it with a JSON parser
and memcpy, without numpy or zlib:

    bytes 0..7   magic "LPUGOLD1"
    bytes 8..11  u32 H: length of the JSON header in bytes
    bytes 12..   the JSON header (UTF-8), padded with spaces so that the
                 payload starts on a 4-byte boundary
    payload      the arrays named in header["arrays"]; each entry gives
                 "dtype" ("i32" or "f32"), "shape" and "offset" (bytes from
                 the start of the payload)

Floats are stored as the exact float32 values llama.cpp returned.
"""

import json
import struct

import numpy as np

MAGIC = b"LPUGOLD1"
_DTYPES = {"i32": np.dtype("<i4"), "f32": np.dtype("<f4")}


def write(path, header, arrays):
    """Writes `header` (a JSON-able dict) and `arrays` (name -> ndarray)."""
    header = dict(header)
    table = {}
    blobs = []
    offset = 0
    for name, arr in arrays.items():
        dtype = "i32" if np.issubdtype(arr.dtype, np.integer) else "f32"
        data = np.ascontiguousarray(arr, dtype=_DTYPES[dtype]).tobytes()
        table[name] = {"dtype": dtype, "shape": list(arr.shape), "offset": offset}
        blobs.append(data)
        offset += len(data)
    header["arrays"] = table
    # One top-level key per line keeps diffs of regenerated goldens readable.
    lines = [json.dumps(k) + ": " + json.dumps(v, ensure_ascii=False) for k, v in header.items()]
    text = ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")
    pad = (-(len(MAGIC) + 4 + len(text))) % 4
    text += b" " * pad
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read(path):
    """Returns (header, arrays) from a file written by write()."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: bad magic {data[:8]!r}, expected {MAGIC!r}")
    (hlen,) = struct.unpack_from("<I", data, 8)
    header = json.loads(data[12 : 12 + hlen].decode("utf-8"))
    payload = 12 + hlen
    arrays = {}
    for name, spec in header["arrays"].items():
        dtype = _DTYPES[spec["dtype"]]
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        start = payload + spec["offset"]
        end = start + count * dtype.itemsize
        if end > len(data):
            raise ValueError(f"{path}: array '{name}' runs past the end of the file")
        arrays[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(spec["shape"])
    return header, arrays
