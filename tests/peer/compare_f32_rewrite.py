#!/usr/bin/env python3
"""Compares this project's F32 rewrite of a GGUF file with llama.cpp's.

    python tests/peer/compare_f32_rewrite.py LPU_GGUF_PEER_WRITER [SRC.gguf]

SRC defaults to the SmolLM2-135M-Instruct Q4_1 file in the model cache
($LPU_MODEL_DIR or ~/.cache/lpu/models). Runs
`LPU_GGUF_PEER_WRITER rewrite-f32 SRC ours.gguf` (gguf::rewrite_as_f32) and
llama.cpp's llama_model_quantize(SRC, theirs.gguf) with ftype 0 (ALL_F32)
and allow_requantize, then compares: first the whole files byte for byte,
then (if they differ) metadata and each tensor's name, shape, type and data
bytes with gguf.GGUFReader, printing every difference.

Exit status 0 when the tensor data are identical, 1 when not, 77 (skip) when
SRC is absent and CI is not "true".
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import gguf


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            h.update(chunk)
    return h.hexdigest()


def llama_f32(src, dst):
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = 0  # LLAMA_FTYPE_ALL_F32
    params.allow_requantize = True
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
    if rc != 0:
        raise RuntimeError('llama_model_quantize returned %d' % rc)


def compare_readers(ours, theirs):
    problems = []
    a, b = gguf.GGUFReader(ours), gguf.GGUFReader(theirs)
    ka = [k for k in a.fields]
    kb = [k for k in b.fields]
    if ka != kb:
        problems.append('metadata keys differ:\n  lpu:       %s\n  llama.cpp: %s' % (ka, kb))
    for k in ka:
        if k in b.fields:
            fa, fb = a.fields[k], b.fields[k]
            if fa.types != fb.types or any(not np.array_equal(x, y) for x, y in zip(fa.parts, fb.parts)):
                problems.append('metadata %r differs' % k)
    na = [t.name for t in a.tensors]
    nb = [t.name for t in b.tensors]
    if na != nb:
        problems.append('tensor order differs')
    tb = {t.name: t for t in b.tensors}
    same = 0
    for t in a.tensors:
        u = tb.get(t.name)
        if u is None:
            problems.append('tensor %r missing from llama.cpp output' % t.name)
            continue
        if list(t.shape) != list(u.shape) or t.tensor_type != u.tensor_type:
            problems.append('tensor %r: %s %s vs %s %s' % (t.name, t.tensor_type.name, list(t.shape),
                                                            u.tensor_type.name, list(u.shape)))
            continue
        da = np.ascontiguousarray(t.data).view(np.uint8)
        db = np.ascontiguousarray(u.data).view(np.uint8)
        if not np.array_equal(da, db):
            diff = np.count_nonzero(np.ascontiguousarray(t.data).view(np.uint32) !=
                                    np.ascontiguousarray(u.data).view(np.uint32))
            problems.append('tensor %r: %d of %d values differ' % (t.name, diff, t.n_elements))
        else:
            same += 1
    return problems, same, len(a.tensors)


def main(argv):
    if len(argv) < 1:
        print(__doc__)
        return 2
    tool = argv[0]
    model_dir = os.environ.get('LPU_MODEL_DIR') or os.path.expanduser('~/.cache/lpu/models')
    src = argv[1] if len(argv) > 1 else os.path.join(model_dir, 'SmolLM2-135M-Instruct.Q4_1.gguf')
    if not os.path.exists(src):
        print('%s is missing' % src)
        return 1 if os.environ.get('CI') == 'true' else 77
    with tempfile.TemporaryDirectory() as tmp:
        ours = os.path.join(tmp, 'lpu-f32.gguf')
        theirs = os.path.join(tmp, 'llama-f32.gguf')
        t0 = time.time()
        subprocess.run([tool, 'rewrite-f32', src, ours], check=True)
        t1 = time.time()
        llama_f32(src, theirs)
        t2 = time.time()
        print('lpu rewrite_as_f32: %.2f s, %d bytes, sha256 %s' % (t1 - t0, os.path.getsize(ours), sha256(ours)))
        print('llama.cpp ALL_F32:  %.2f s, %d bytes, sha256 %s' % (t2 - t1, os.path.getsize(theirs), sha256(theirs)))
        if sha256(ours) == sha256(theirs):
            print('files are byte-identical')
            return 0
        problems, same, total = compare_readers(ours, theirs)
        print('files differ; %d of %d tensors have identical data' % (same, total))
        for p in problems:
            print('DIFF ' + p)
        return 0 if same == total else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
