#!/usr/bin/env python3
"""Checks GGUF files written by this project with the `gguf` PyPI package.

    python tests/peer/check_gguf.py DIR_OR_FILE... [--llama-eval]

For every FILE.gguf with a FILE.gguf.json sidecar (written by
lpu_gguf_peer_writer: what this project reads back), gguf.GGUFReader must
see the same version, alignment, metadata (keys, order, types, values; floats
bit for bit) and tensors (names, GGML dims, types), and gguf.quants.dequantize
must give the same float32 bits for every tensor value. The sidecar format is
the one tests/peer/make_gguf_fixtures.py writes as expected.json.

With --llama-eval, files whose general.architecture is "llama" are also
loaded with llama-cpp-python and a few token ids evaluated; the logits must
be finite and not all equal.

Exit status: 0 when everything matches, 1 otherwise (each difference is
printed with the file, key or tensor, and both values).
"""
import json
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGUFValueType as VT


def type_name(vt):
    return VT(vt).name.lower()


def encode_scalar(vt, x):
    if vt == VT.FLOAT32:
        return {'type': 'float32', 'bits': struct.unpack('<I', struct.pack('<f', x))[0]}
    if vt == VT.FLOAT64:
        return {'type': 'float64', 'bits': struct.unpack('<Q', struct.pack('<d', x))[0]}
    if vt == VT.BOOL:
        return {'type': 'bool', 'value': bool(x)}
    if vt == VT.STRING:
        return {'type': 'string', 'value': x}
    return {'type': type_name(vt), 'value': int(x)}


def flatten(item):
    """The leaf scalars of an expected value, in order (GGUFReader flattens nested arrays)."""
    if item['type'] == 'array':
        return [leaf for x in item['items'] for leaf in flatten(x)]
    return [item]


def field_to_json(field):
    """The package's view of a field, in the sidecar's (flattened) form."""
    main = field.types[0]
    if main != VT.ARRAY:
        return encode_scalar(main, field.contents())
    # parts: key length, key, value type, then the array element type and length.
    elem = VT(int(field.parts[3][0]))
    leaf = field.types[-1]
    values = field.contents()
    return {'type': 'array', 'elem_type': type_name(elem), 'count': int(field.parts[4][0]),
            'leaves': [encode_scalar(leaf, v) for v in values]}


def expected_field(item):
    if item['type'] != 'array':
        return {k: v for k, v in item.items() if k != 'key'}
    return {'type': 'array', 'elem_type': item['elem_type'], 'count': len(item['items']),
            'leaves': [{k: v for k, v in leaf.items()} for leaf in flatten(item)]}


def check_file(path, want, errors):
    where = os.path.basename(path)
    r = gguf.GGUFReader(path)
    fields = [(k, f) for k, f in r.fields.items() if not k.startswith('GGUF.')]
    version = int(r.fields['GGUF.version'].contents())
    if version != want['version']:
        errors.append('%s: version %d, expected %d' % (where, version, want['version']))
    if r.alignment != want['alignment']:
        errors.append('%s: alignment %d, expected %d' % (where, r.alignment, want['alignment']))
    keys = [k for k, _ in fields]
    want_keys = [m['key'] for m in want['metadata']]
    if keys != want_keys:
        errors.append('%s: metadata keys %s, expected %s' % (where, keys, want_keys))
    for (key, field), item in zip(fields, want['metadata']):
        got, exp = field_to_json(field), expected_field(item)
        if got != exp:
            errors.append('%s: key %r: the gguf package reads %s, lpu reads %s' % (
                where, key, json.dumps(got)[:300], json.dumps(exp)[:300]))
    if len(r.tensors) != len(want['tensors']):
        errors.append('%s: %d tensors, expected %d' % (where, len(r.tensors), len(want['tensors'])))
    for t, exp in zip(r.tensors, want['tensors']):
        tw = '%s: tensor %r' % (where, exp['name'])
        got = {'name': t.name, 'type': t.tensor_type.name, 'type_id': int(t.tensor_type),
               'dims': [int(d) for d in t.shape]}
        exp_head = {k: exp[k] for k in ('name', 'type', 'type_id', 'dims')}
        if got != exp_head:
            errors.append('%s: the gguf package reads %s, lpu reads %s' % (tw, got, exp_head))
            continue
        raw = np.ascontiguousarray(t.data).reshape(-1).view(np.uint8)
        values = gguf.quants.dequantize(raw, t.tensor_type).astype(np.float32).reshape(-1).view(np.uint32)
        exp_bits = np.array(exp['values_f32_bits'], dtype=np.uint32)
        if values.shape != exp_bits.shape:
            errors.append('%s: %d values, expected %d' % (tw, values.size, exp_bits.size))
            continue
        bad = np.nonzero(values != exp_bits)[0]
        if bad.size:
            i = int(bad[0])
            errors.append('%s: %d values differ; first #%d: the gguf package gives 0x%08x, lpu 0x%08x' % (
                tw, bad.size, i, int(values[i]), int(exp_bits[i])))
    return len(r.tensors)


def llama_eval(path, errors):
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_threads=2, logits_all=True, type_k=0, type_v=0,
                          flash_attn=False, verbose=False)
    ids = [1, 300, 301, 5, 260]
    llm.eval(ids)
    logits = np.array(llm.scores[:len(ids)], dtype=np.float32)
    where = os.path.basename(path)
    if not np.all(np.isfinite(logits)):
        errors.append('%s: llama.cpp logits are not all finite' % where)
    elif float(logits.std()) < 1e-3:
        errors.append('%s: llama.cpp logits are degenerate (std %g)' % (where, float(logits.std())))
    else:
        print('  llama.cpp ran %s: %d ids, logits std %.3f, argmax %s' % (
            where, len(ids), float(logits.std()), [int(x) for x in logits.argmax(axis=1)]))
    tokens = llm.tokenize(b'hello world', add_bos=True, special=False)
    if len(tokens) < 2 or tokens[0] != 1:
        errors.append('%s: llama.cpp tokenised "hello world" as %s' % (where, tokens))


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    do_llama = '--llama-eval' in argv
    paths = []
    for a in args:
        if os.path.isdir(a):
            paths += sorted(os.path.join(a, n) for n in os.listdir(a) if n.endswith('.gguf'))
        else:
            paths.append(a)
    errors = []
    checked = 0
    for path in paths:
        sidecar = path + '.json'
        if not os.path.exists(sidecar):
            continue
        with open(sidecar, encoding='utf-8') as f:
            want = json.load(f)
        n = check_file(path, want, errors)
        print('checked %s: %d metadata keys, %d tensors' % (path, len(want['metadata']), n))
        checked += 1
        if do_llama and any(m['key'] == 'general.architecture' and m.get('value') == 'llama'
                            for m in want['metadata']):
            llama_eval(path, errors)
    if checked == 0:
        errors.append('no FILE.gguf with a FILE.gguf.json sidecar found in %s' % args)
    for e in errors:
        print('MISMATCH ' + e)
    print('%d files checked, %d problems' % (checked, len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
