#!/usr/bin/env python3
"""Independent Python model of lib/core/rng (Philox4x32-10, uniform, log and
inverse-CDF normal), used to produce the expected values hard-coded in
tests/lib/core/rng_test.cpp.

Regenerate: python3 tests/peer/rng_reference.py

With --check-synth FILE.gguf (needs the gguf package), also recomputes every
weight of an F32 synthetic model (include/lpu/synth.h) from this model:
value i of tensor NAME is float32(mean + stddev * normal(seed, fnv1a64(NAME),
i)) with (mean, stddev) = (0, 1/sqrt(row length)) for matrices and
(1, 0.05) for norms, and demands bit equality.
Python floats are IEEE doubles and math.sqrt is correctly rounded, so the
same operations in the same order give the same bits as the C++ code.
"""
import math
import struct

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(c, k):
    c = list(c)
    k = list(k)
    for rnd in range(10):
        if rnd:
            k = [(k[0] + W0) & MASK, (k[1] + W1) & MASK]
        p0 = M0 * c[0]
        p1 = M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & MASK, (p0 >> 32) ^ c[3] ^ k[1], p0 & MASK]
    return c


def bits64(seed, stream, counter):
    r = philox4x32_10([counter & MASK, counter >> 32, stream & MASK, stream >> 32],
                      [seed & MASK, seed >> 32])
    return r[0] | (r[1] << 32)


def uniform_float(seed, stream, counter):
    return (bits64(seed, stream, counter) >> 40) * 2.0**-24


def uniform_open(seed, stream, counter):
    return float(2 * (bits64(seed, stream, counter) >> 12) + 1) * 2.0**-53


LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
SQRT2 = 1.41421356237309504880


def log_det(x):
    e = 0
    if x < 2.0**-1022:
        x *= 2.0**54
        e = -54
    b = struct.unpack('<Q', struct.pack('<d', x))[0]
    e += ((b >> 52) & 0x7FF) - 1023
    m = struct.unpack('<d', struct.pack('<Q', (b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000))[0]
    if m > SQRT2:
        m *= 0.5
        e += 1
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    poly = 1.0 / 23.0
    for k in range(21, 0, -2):
        poly = poly * s2 + 1.0 / float(k)
    log_m = 2.0 * s * poly
    de = float(e)
    return de * LN2_HI + (de * LN2_LO + log_m)


A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
     1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
     6.680131188771972e+01, -1.328068155288572e+01]
C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
     -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
     3.754408661907416e+00]
P_LOW = 0.02425


def tail(p):
    q = math.sqrt(-2.0 * log_det(p))
    num = ((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]
    den = (((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0
    return num / den


def normal(seed, stream, counter):
    p = uniform_open(seed, stream, counter)
    if p < P_LOW:
        return tail(p)
    if p > 1.0 - P_LOW:
        return -tail(1.0 - p)
    q = p - 0.5
    r = q * q
    num = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
    den = ((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0
    return num / den


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def check_synth(path):
    import numpy as np
    import gguf
    r = gguf.GGUFReader(path)
    seed = int(r.fields['lpu.synth.seed'].contents())
    bad = 0
    total = 0
    for t in r.tensors:
        if t.tensor_type != gguf.GGMLQuantizationType.F32:
            print('%s: %s is %s; only F32 files are checked' % (path, t.name, t.tensor_type.name))
            return 1
        got = np.ascontiguousarray(t.data).reshape(-1).view(np.uint32)
        dims = [int(d) for d in t.shape]
        is_norm = len(dims) == 1
        mean, stddev = (1.0, 0.05) if is_norm else (0.0, 1.0 / math.sqrt(float(dims[0])))
        stream = fnv1a64(t.name.encode())
        want = np.array([mean + stddev * normal(seed, stream, i) for i in range(got.size)],
                        dtype=np.float64).astype(np.float32).view(np.uint32)
        diff = np.nonzero(got != want)[0]
        total += got.size
        if diff.size:
            bad += diff.size
            print('%s: %s: %d values differ, first #%d' % (path, t.name, diff.size, int(diff[0])))
    print('%s: %d weights in %d tensors recomputed, %d differ' % (path, total, len(r.tensors), bad))
    return 1 if bad else 0


def main():
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == '--check-synth':
        sys.exit(check_synth(sys.argv[2]))
    # Random123's published known-answer vectors for philox4x32_10.
    kat = [([0, 0, 0, 0], [0, 0]),
           ([MASK] * 4, [MASK, MASK]),
           ([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])]
    for c, k in kat:
        print('philox', [hex(x) for x in c], [hex(x) for x in k], '->',
              ', '.join('0x%08x' % x for x in philox4x32_10(c, k)))
    cases = [(1, 0, 0), (1, 0, 1), (1, 7, 123456789), (0xDEADBEEFCAFEF00D, 0x0123456789ABCDEF, 2**64 - 1),
             (42, 3, 1000)]
    for seed, stream, counter in cases:
        n = normal(seed, stream, counter)
        print('case seed=0x%x stream=0x%x counter=0x%x: bits64=0x%016x uniform_float=%r (0x%08x) '
              'uniform_open=%r normal=%r (0x%016x)' % (
                  seed, stream, counter, bits64(seed, stream, counter), uniform_float(seed, stream, counter),
                  struct.unpack('<I', struct.pack('<f', uniform_float(seed, stream, counter)))[0],
                  uniform_open(seed, stream, counter), n, struct.unpack('<Q', struct.pack('<d', n))[0]))
    # Tail cases: find counters whose uniform falls in each tail.
    found = {}
    for counter in range(10000):
        p = uniform_open(5, 9, counter)
        side = 'low' if p < P_LOW else 'high' if p > 1.0 - P_LOW else None
        if side and side not in found:
            found[side] = counter
            n = normal(5, 9, counter)
            print('tail %s seed=5 stream=9 counter=%d: normal=%r (0x%016x)' % (
                side, counter, n, struct.unpack('<Q', struct.pack('<d', n))[0]))
    for x in [1e-300, 5e-324, 0.1, 0.5, 1.0, 2.0, 10.0, 1e300]:
        v = log_det(x)
        print('log(%r) = %r (0x%016x), math.log=%r' % (x, v, struct.unpack('<Q', struct.pack('<d', v))[0],
                                                       math.log(x)))


if __name__ == '__main__':
    main()
