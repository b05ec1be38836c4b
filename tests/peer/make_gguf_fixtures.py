#!/usr/bin/env python3
"""Writes the GGUF reader fixtures in tests/data/gguf/ with the `gguf` PyPI
package (an independent GGUF writer, quantiser and dequantiser) and
llama.cpp's quantiser (for the K-quants, which the package cannot encode).

Regenerate (needs the project venv with gguf, numpy and llama-cpp-python):

    ~/.cache/lpu/venv/bin/python tests/peer/make_gguf_fixtures.py tests/data/gguf

Outputs:
  types.gguf     F32 (1-D and 4-D), F16, BF16, Q8_0 (2-D and 3-D), Q4_0, Q4_1
                 tensors, quantised by gguf.quants.quantize, with special
                 values (zeros, +-0, subnormals, inf, NaN, overflow, outliers).
  metadata.gguf  every metadata value type, boundary values, unicode and
                 empty strings, typed arrays, a nested array, and
                 general.alignment = 64 with tensors padded to it.
  kquants.gguf   Q4_K, Q5_K and Q6_K tensors cut from llama.cpp's
                 Q4_K_M / Q5_K_M / Q6_K quantisations of a tiny F32 llama.
  expected.json  for each file: metadata in file order (floats as bit
                 patterns) and each tensor's name, GGML dims, type and its
                 values as dequantised by gguf.quants.dequantize (float32 bit
                 patterns); for tensors quantised here also the fp32 source
                 and the encoded bytes (hex), so the C++ quantiser can be
                 checked byte for byte.

tests/peer/check_gguf.py reads the same JSON format.
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

SEED = 20240607

# GGUF value type -> struct format of a scalar.
SCALAR_FMT = {VT.UINT8: '<B', VT.INT8: '<b', VT.UINT16: '<H', VT.INT16: '<h', VT.UINT32: '<I',
              VT.INT32: '<i', VT.UINT64: '<Q', VT.INT64: '<q', VT.FLOAT32: '<f', VT.FLOAT64: '<d'}


def type_name(vt):
    return vt.name.lower()


def encode_value(vt, val, sub_type=None):
    """JSON form of a metadata value: {"type", "value"|"bits"|"elem_type"+"items"}."""
    if vt == VT.ARRAY:
        if sub_type is None:
            sub_type = VT.get_type(val[0])
        inner = [encode_value(sub_type, v, None) for v in val]
        return {'type': 'array', 'elem_type': type_name(sub_type), 'items': inner}
    if vt == VT.FLOAT32:
        return {'type': 'float32', 'bits': struct.unpack('<I', struct.pack('<f', val))[0]}
    if vt == VT.FLOAT64:
        return {'type': 'float64', 'bits': struct.unpack('<Q', struct.pack('<d', val))[0]}
    if vt == VT.BOOL:
        return {'type': 'bool', 'value': bool(val)}
    if vt == VT.STRING:
        return {'type': 'string', 'value': val}
    return {'type': type_name(vt), 'value': int(val)}


def f32_bits(a):
    return [int(x) for x in np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


class Fixture:
    """A GGUFWriter plus the expected-values record for one file."""

    def __init__(self, path, arch='lpu-fixture'):
        self.path = path
        self.w = gguf.GGUFWriter(path, arch)
        self.meta = [{'key': 'general.architecture', **encode_value(VT.STRING, arch)}]
        self.tensors = []
        self.alignment = 32

    def kv(self, key, val, vt, sub_type=None):
        self.w.add_key_value(key, val, vt, sub_type=sub_type)
        self.meta.append({'key': key, **encode_value(vt, val, sub_type)})

    def alignment_kv(self, n):
        self.w.add_custom_alignment(n)
        self.alignment = n
        self.meta.append({'key': 'general.alignment', **encode_value(VT.UINT32, n)})

    def tensor_f32(self, name, values, qtype):
        """Quantises float32 `values` (numpy shape, reversed GGML dims) as `qtype`."""
        values = np.ascontiguousarray(values, dtype=np.float32)
        if qtype == QT.F32:
            data = values
        elif qtype == QT.F16:
            with np.errstate(over='ignore'):  # 70000 -> inf on purpose
                data = values.astype(np.float16)
        else:
            data = gguf.quants.quantize(values, qtype)
        self.raw(name, data, qtype, list(values.shape), source=values)

    def raw(self, name, data, qtype, np_shape, source=None):
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        if qtype in (QT.F32, QT.F16):
            self.w.add_tensor(name, np.ascontiguousarray(data))
        else:
            self.w.add_tensor(name, raw.reshape(np_shape[:-1] + [-1]), raw_dtype=qtype)
        deq = gguf.quants.dequantize(raw.copy(), qtype).reshape(-1)
        rec = {'name': name, 'type': qtype.name, 'type_id': int(qtype), 'dims': list(reversed(np_shape)),
               'values_f32_bits': f32_bits(deq)}
        if source is not None:
            rec['source_f32_bits'] = f32_bits(source)
            rec['data_hex'] = raw.tobytes().hex()
        self.tensors.append(rec)

    def finish(self):
        self.w.write_header_to_file()
        self.w.write_kv_data_to_file()
        self.w.write_tensors_to_file()
        self.w.close()
        return {'version': 3, 'alignment': self.alignment, 'metadata': self.meta, 'tensors': self.tensors}


def special_f32():
    return np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 1e-45, -3.4028235e38, 1.17549435e-38,
                     6.1e-5, 5.96e-8, 2.9e-8, 65504.0, 65520.0, 70000.0, 1.0009765625, 1.00048828125,
                     0.333333343, 3.14159274, 1e10, -1e-10, 255.5, 0.1, -0.1, 2.0 ** -24, 2.0 ** -25,
                     1.5 * 2.0 ** -24, 65519.99, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, -7.0], dtype=np.float32)


def make_types(out_dir, rng):
    fx = Fixture(os.path.join(out_dir, 'types.gguf'))
    fx.kv('general.name', 'lpu tensor type fixtures', VT.STRING)
    fx.tensor_f32('f32_1d', special_f32()[:7], QT.F32)
    fx.tensor_f32('f32_4d', rng.standard_normal((5, 4, 3, 2)).astype(np.float32), QT.F32)
    f16 = np.concatenate([special_f32(), rng.standard_normal(96).astype(np.float32) * 4]).reshape(2, 64)
    fx.tensor_f32('f16', f16, QT.F16)
    bf16 = np.concatenate([special_f32(), (rng.standard_normal(64) * 100).astype(np.float32)]).reshape(3, 32)
    fx.tensor_f32('bf16', bf16, QT.BF16)
    blocks = rng.standard_normal((4, 64)).astype(np.float32)
    blocks[1, :32] = 0.0                          # all-zero block: d = 0
    blocks[1, 32:] = 0.75                         # constant block
    blocks[2, 5] = 40.0                           # outlier sets the scale
    blocks[3, :] *= 1e-6                          # tiny scale (f16 subnormal d)
    for qt in (QT.Q8_0, QT.Q4_0, QT.Q4_1):
        fx.tensor_f32(qt.name.lower(), blocks, qt)
    fx.tensor_f32('q8_0_3d', rng.standard_normal((2, 2, 32)).astype(np.float32) * 3, QT.Q8_0)
    return fx.finish()


def make_metadata(out_dir):
    fx = Fixture(os.path.join(out_dir, 'metadata.gguf'))
    for vt, vals in [(VT.UINT8, [0, 255]), (VT.INT8, [-128, 127]), (VT.UINT16, [0, 65535]),
                     (VT.INT16, [-32768, 32767]), (VT.UINT32, [0, 4294967295]),
                     (VT.INT32, [-2147483648, 2147483647]), (VT.UINT64, [0, 2 ** 64 - 1]),
                     (VT.INT64, [-2 ** 63, 2 ** 63 - 1])]:
        for i, v in enumerate(vals):
            fx.kv('test.%s.%d' % (type_name(vt), i), v, vt)
        fx.kv('test.array.%s' % type_name(vt), vals + [vals[0] // 2 + vals[1] // 2], VT.ARRAY, sub_type=vt)
    for i, v in enumerate([1.5, -0.0, 3.4028234663852886e38, 1e-45, float('inf')]):
        fx.kv('test.float32.%d' % i, v, VT.FLOAT32)
    for i, v in enumerate([3.141592653589793, -1e-300, 5e-324, float('-inf')]):
        fx.kv('test.float64.%d' % i, v, VT.FLOAT64)
    fx.kv('test.array.float32', [0.1, -2.5, 1e30], VT.ARRAY, sub_type=VT.FLOAT32)
    fx.kv('test.array.float64', [0.1, -2.5, 1e300], VT.ARRAY, sub_type=VT.FLOAT64)
    fx.kv('test.bool.true', True, VT.BOOL)
    fx.kv('test.bool.false', False, VT.BOOL)
    fx.kv('test.array.bool', [True, False, True], VT.ARRAY, sub_type=VT.BOOL)
    fx.kv('test.string.ascii', 'hello world', VT.STRING)
    fx.kv('test.string.empty', '', VT.STRING)
    fx.kv('test.string.unicode', 'h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001f999 \u2581x', VT.STRING)
    fx.kv('test.string.nul', 'a\x00b\n\t"\\', VT.STRING)
    fx.kv('test.array.string', ['<s>', '', '\u2581the', '\U0001f999', 'x' * 300], VT.ARRAY, sub_type=VT.STRING)
    fx.kv('test.array.nested', [[1, 2, 3], [-4], [5, 6]], VT.ARRAY, sub_type=VT.ARRAY)
    fx.kv('test.array.long_int32', list(range(-500, 500)), VT.ARRAY, sub_type=VT.INT32)
    fx.alignment_kv(64)
    # Sizes that are not multiples of 64 force padding between tensors.
    fx.tensor_f32('pad_a', np.arange(5, dtype=np.float32), QT.F32)
    fx.tensor_f32('pad_b', np.arange(3, dtype=np.float32) - 1.5, QT.F32)
    fx.tensor_f32('pad_c', np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32), QT.Q8_0)
    return fx.finish()


def tiny_llama_f32(path, rng):
    """A one-layer F32 llama whose rows are multiples of 256, for K-quants."""
    n_embd, n_ff, n_vocab = 256, 512, 300
    w = gguf.GGUFWriter(path, 'llama')
    w.add_context_length(64)
    w.add_embedding_length(n_embd)
    w.add_block_count(1)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(2)
    w.add_head_count_kv(2)
    w.add_rope_dimension_count(128)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)
    w.add_tokenizer_model('llama')
    toks = ['<unk>', '<s>', '</s>'] + ['<0x%02X>' % b for b in range(256)]
    toks += ['tok%d' % i for i in range(n_vocab - len(toks))]
    w.add_token_list(toks)
    w.add_token_scores([0.0] * n_vocab)
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (n_vocab - 259))

    def mat(rows, cols):
        m = (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)
        m[0, 3] = 0.9   # an outlier per tensor
        m[1, :] *= 1e-3  # a row of small values
        return m
    w.add_tensor('token_embd.weight', mat(n_vocab, n_embd))
    w.add_tensor('output_norm.weight', np.ones(n_embd, dtype=np.float32))
    w.add_tensor('output.weight', mat(n_vocab, n_embd))
    w.add_tensor('blk.0.attn_norm.weight', np.ones(n_embd, dtype=np.float32))
    for name, (r, c) in [('attn_q', (n_embd, n_embd)), ('attn_k', (n_embd, n_embd)),
                         ('attn_v', (n_embd, n_embd)), ('attn_output', (n_embd, n_embd)),
                         ('ffn_gate', (n_ff, n_embd)), ('ffn_up', (n_ff, n_embd)),
                         ('ffn_down', (n_embd, n_ff))]:
        w.add_tensor('blk.0.%s.weight' % name, mat(r, c))
    w.add_tensor('blk.0.ffn_norm.weight', np.ones(n_embd, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama_quantize(src, dst, ftype):
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
    if rc != 0:
        raise RuntimeError('llama_model_quantize(%s, ftype=%d) returned %d' % (src, ftype, rc))


def make_kquants(out_dir, rng):
    # llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M, Q5_K_M, Q6_K.
    ftypes = {'Q4_K_M': 15, 'Q5_K_M': 17, 'Q6_K': 18}
    wanted = {QT.Q4_K: None, QT.Q5_K: None, QT.Q6_K: None}
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'tiny-f32.gguf')
        tiny_llama_f32(src, rng)
        for label, ftype in ftypes.items():
            dst = os.path.join(tmp, label + '.gguf')
            llama_quantize(src, dst, ftype)
            r = gguf.GGUFReader(dst)
            report[label] = {t.name: t.tensor_type.name for t in r.tensors}
            for t in r.tensors:
                if t.tensor_type in wanted and wanted[t.tensor_type] is None and t.name != 'token_embd.weight':
                    # Two rows (2 or 4 blocks): enough to cover every sub-block.
                    rows = np.array(t.data[:2], dtype=np.uint8)
                    wanted[t.tensor_type] = (label, t.name, rows)
    missing = [qt.name for qt, v in wanted.items() if v is None]
    if missing:
        raise RuntimeError('llama.cpp produced no tensor of type %s: %s' % (missing, report))
    fx = Fixture(os.path.join(out_dir, 'kquants.gguf'))
    fx.kv('general.name', 'lpu K-quant fixtures from llama.cpp', VT.STRING)
    for qt, (label, name, rows) in wanted.items():
        n_per_row = rows.shape[1] // (144 if qt == QT.Q4_K else 176 if qt == QT.Q5_K else 210) * 256
        fx.raw(qt.name.lower(), rows, qt, [rows.shape[0], n_per_row])
        fx.kv('source.%s' % qt.name.lower(), '%s of %s' % (name, label), VT.STRING)
    result = fx.finish()
    return result, report


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'data', 'gguf')
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    files = {'types.gguf': make_types(out_dir, rng), 'metadata.gguf': make_metadata(out_dir)}
    files['kquants.gguf'], report = make_kquants(out_dir, rng)
    doc = {'generator': 'tests/peer/make_gguf_fixtures.py', 'gguf_package': getattr(gguf, '__version__', 'unknown'),
           'llama_cpp_tensor_types': report, 'files': files}
    with open(os.path.join(out_dir, 'expected.json'), 'w', encoding='utf-8') as f:
        json.dump(doc, f, ensure_ascii=False, indent=0, sort_keys=False)
        f.write('\n')
    for label, types in report.items():
        counts = {}
        for t in types.values():
            counts[t] = counts.get(t, 0) + 1
        print('%s: %s' % (label, counts))
    total = sum(os.path.getsize(os.path.join(out_dir, n)) for n in os.listdir(out_dir))
    print('wrote %s (%d bytes in all)' % (out_dir, total))


if __name__ == '__main__':
    main()
