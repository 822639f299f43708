"""numpy <-> gnnrec .npy round trip, bit for bit, driven through tests/tools/npy_tool.

1. gnnrec writes arrays of every dtype and several shapes; numpy reads them and checks dtype,
   shape and every byte against the formula npy_tool uses (bf16 must appear as 2-byte void).
2. numpy writes arrays of every dtype (and .npy format versions 1.0, 2.0 and 3.0); gnnrec reads
   them and reports dtype, shape and an FNV-1a hash of the data bytes, which must match.
3. Fortran-order, big-endian and truncated files must be refused with a clear error.
4. gnnrec's host f32 -> f16 / bf16 conversions equal numpy's round-to-nearest-even.

Run with /usr/bin/python3 (Debian numpy). Env: GNNREC_BUILD (build dir or a packaged dist/).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = ["f32", "f16", "bf16", "i32", "i64", "u8", "i8"]  # order = npy_tool's dtype code
NUMPY_OF = {"f32": "<f4", "f16": "<f2", "bf16": "V2", "i32": "<i4", "i64": "<i8", "u8": "|u1",
            "i8": "|i1"}
MASK64 = (1 << 64) - 1


def find_tool():
    build = os.environ.get("GNNREC_BUILD")
    if not build:
        build = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    for sub in ("tests", "bin"):
        p = os.path.join(build, sub, "npy_tool")
        if os.access(p, os.X_OK):
            return p
    sys.exit(f"npy_tool not found under {build}/tests or {build}/bin (set GNNREC_BUILD)")


TOOL = find_tool()


def mix(n, code):
    """npy_tool's mix(i, code) for i in [0, n), as uint64 (numpy integer arrays wrap mod 2^64)."""
    i = np.arange(n, dtype=np.uint64)
    w = (i + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(
        (code * 0xD1B54A32D192ED03) & MASK64)
    return w ^ (w >> np.uint64(31))


def expected_bytes(dtype, n):
    size = np.dtype(NUMPY_OF[dtype]).itemsize
    w = mix(n, DTYPES.index(dtype)).astype("<u8")
    return w.view(np.uint8).reshape(n, 8)[:, :size].tobytes()


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & MASK64
    return f"{h:016x}"


def shape_of(name):
    s = name.split("_", 1)[1]
    return () if s == "scalar" else tuple(int(d) for d in s.split("x"))


def run_tool(*args, ok=True):
    r = subprocess.run([TOOL, *args], capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise AssertionError(f"npy_tool {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def gnnrec_writes_numpy_reads(d):
    run_tool("write", d)
    seen = set()
    for f in sorted(os.listdir(d)):
        stem = f[:-4]
        dt = stem.split("_", 1)[0]
        if dt not in DTYPES:
            continue
        seen.add(dt)
        a = np.load(os.path.join(d, f))
        shape = shape_of(stem)
        check(a.shape == shape, f"{f}: numpy sees shape {a.shape}, expected {shape}")
        want = np.dtype(NUMPY_OF[dt])
        check(a.dtype == want, f"{f}: numpy sees dtype {a.dtype.str}, expected {want.str}")
        check(a.flags.c_contiguous, f"{f}: not C order")
        check(a.tobytes() == expected_bytes(dt, a.size), f"{f}: data bytes differ")
        if dt == "bf16":
            check(a.dtype.kind == "V" and a.dtype.itemsize == 2, f"{f}: bf16 is not 2-byte void")
            bits = a.view(np.uint16)
            ref = np.frombuffer(expected_bytes(dt, a.size), dtype="<u2").reshape(shape)
            check(np.array_equal(bits, ref), f"{f}: bf16 bits viewed as uint16 differ")
    check(seen == set(DTYPES), f"npy_tool wrote dtypes {sorted(seen)}, expected all of {DTYPES}")


def numpy_writes_gnnrec_reads(d):
    rng = np.random.default_rng(20261130)
    cases = []
    for shape in [(), (0,), (1,), (7,), (3, 5), (2, 3, 4), (4, 0), (1, 1, 1, 1, 1)]:
        for dt, np_dt in [("f32", np.float32), ("f16", np.float16), ("i32", np.int32),
                          ("i64", np.int64), ("u8", np.uint8), ("i8", np.int8)]:
            raw = rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(np_dt).itemsize,
                               dtype=np.uint8)
            a = np.ascontiguousarray(raw.view(np_dt).reshape(shape))  # any bit pattern, NaNs too
            cases.append((f"np_{dt}_{'x'.join(map(str, shape)) or 'scalar'}.npy", a, dt))
    b = rng.integers(0, 2, size=(6, 3)).astype(bool)  # bool is read as u8 (same bytes)
    cases.append(("np_bool.npy", b, "u8"))
    paths = []
    for name, a, _ in cases:
        p = os.path.join(d, name)
        np.save(p, a)
        paths.append(p)
    # Header versions 2.0 and 3.0 (numpy only picks them for huge or unicode headers).
    v = np.arange(12, dtype=np.int32).reshape(3, 4)
    for ver in [(1, 0), (2, 0), (3, 0)]:
        p = os.path.join(d, f"np_version{ver[0]}.npy")
        with open(p, "wb") as f:
            np.lib.format.write_array(f, v, version=ver)
        cases.append((os.path.basename(p), v, "i32"))
        paths.append(p)
    out = run_tool("read", *paths).stdout.splitlines()
    check(len(out) == len(cases), f"npy_tool read printed {len(out)} lines for {len(cases)} files")
    for (name, a, dt), line in zip(cases, out):
        shape = "(" + ",".join(str(s) for s in a.shape) + ")"
        want = f"{dt} {shape} {fnv1a64(a.tobytes())}"
        check(line == want, f"{name}: gnnrec read '{line}', expected '{want}'")


def refusals(d):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    bad = {
        "fortran.npy": (np.asfortranarray(a), "Fortran"),
        "bigendian_f4.npy": (a.astype(">f4"), "big-endian"),
        "bigendian_i8.npy": (a.astype(">i8"), "big-endian"),
        "float64.npy": (a.astype(np.float64), "unsupported npy dtype"),
    }
    for name, (arr, words) in bad.items():
        p = os.path.join(d, name)
        np.save(p, arr)
        r = run_tool("read", p, ok=False)
        check(r.returncode != 0, f"{name}: was accepted, must be refused")
        check(words in r.stderr and name in r.stderr,
              f"{name}: error should name the file and say '{words}', got: {r.stderr.strip()}")
    p = os.path.join(d, "truncated.npy")
    np.save(p, a)
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) - 4)
    r = run_tool("read", p, ok=False)
    check(r.returncode != 0 and "truncated" in r.stderr,
          f"truncated.npy: expected a 'truncated' error, got rc {r.returncode}: {r.stderr.strip()}")


def conversions(d):
    run_tool("write", d)
    f32 = np.load(os.path.join(d, "conv_f32.npy"))
    nan = np.isnan(f32)
    f16 = np.load(os.path.join(d, "conv_f16.npy"))
    with np.errstate(over="ignore"):  # 65520 and 3.4e38 overflow to inf, as they should
        want16 = f32.astype(np.float16)
    check(np.array_equal(np.isnan(f16), nan), "f16 conversion: NaN positions differ")
    diff = np.flatnonzero((f16.view(np.uint16) != want16.view(np.uint16)) & ~nan)
    check(diff.size == 0, f"f16 conversion differs from numpy at {diff[:5]}: "
          f"{f32[diff[:5]]} -> {f16.view(np.uint16)[diff[:5]]} vs {want16.view(np.uint16)[diff[:5]]}")
    bf = np.load(os.path.join(d, "conv_bf16.npy")).view(np.uint16)
    b = f32.view(np.uint32).astype(np.uint64)
    want_bf = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even
    bf_nan = (bf & 0x7FFF) > 0x7F80
    check(np.array_equal(bf_nan, nan), "bf16 conversion: NaN positions differ")
    diff = np.flatnonzero((bf != want_bf) & ~nan)
    check(diff.size == 0, f"bf16 conversion differs at {diff[:5]}: {bf[diff[:5]]} vs "
          f"{want_bf[diff[:5]]}")


def main():
    with tempfile.TemporaryDirectory(prefix="gnnrec_npy_") as d:
        for step in (gnnrec_writes_numpy_reads, numpy_writes_gnnrec_reads, refusals, conversions):
            sub = os.path.join(d, step.__name__)
            os.makedirs(sub)
            step(sub)
            print(f"{step.__name__}: done")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("npy round trip: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
