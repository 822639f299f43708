"""profiling/summarise.py on small hand-written nsys and ncu CSV files (both column styles).

Checks that each CSV kind is recognised, kernels are sorted by total time with correct shares,
names are shortened, --top folds the rest into one line, and ncu metrics are averaged per kernel
with durations converted to µs. Standard library only.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CANDIDATES = [os.path.join(HERE, "..", "..", "profiling", "summarise.py"),  # repo: tests/py
              os.path.join(HERE, "..", "profiling", "summarise.py")]       # dist: share/gnnrec/py
SCRIPT = next((p for p in CANDIDATES if os.path.exists(p)), None)

NSYS_KERN = """\
Time (%),Total Time (ns),Instances,Avg (ns),Med (ns),Min (ns),Max (ns),StdDev (ns),Name
20.0,"2,000,000",10,"200,000.0","200,000.0",190000,210000,100.0,"void gnnrec::(anonymous namespace)::small_kernel<float>(const float *, int)"
80.0,8000000,4,2000000.0,2000000.0,1900000,2100000,10.0,sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize128x128x32
"""
NSYS_KERN_OLD = """\
Time(%),Total Time (ns),Instances,Average,Minimum,Maximum,Name
60.0,600,3,200.0,100,300,kernel_a
40.0,400,1,400.0,400,400,kernel_b
"""
NSYS_NVTX = """\
Time (%),Total Time (ns),Instances,Avg (ns),Med (ns),Min (ns),Max (ns),StdDev (ns),Style,Range
70.0,7000000,1,7000000.0,7000000.0,7000000,7000000,0.0,PushPop,train_step
30.0,3000000,1,3000000.0,3000000.0,3000000,3000000,0.0,PushPop,sample
"""
NSYS_MEM = """\
Time (%),Total Time (ns),Count,Avg (ns),Med (ns),Min (ns),Max (ns),StdDev (ns),Operation
90.0,900000,2,450000.0,450000.0,400000,500000,1.0,[CUDA memcpy Host-to-Device]
10.0,100000,5,20000.0,20000.0,10000,30000,1.0,[CUDA memset]
"""
NCU = """\
"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"
"0","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Duration","usecond","10.50"
"0","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Compute (SM) Throughput","%","20.0"
"0","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Memory Throughput","%","85.0"
"0","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","Launch Statistics","Registers Per Thread","register/thread","32"
"1","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Duration","nsecond","9,500"
"1","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Compute (SM) Throughput","%","22.0"
"1","1","bench","h","gather_kernel","1","7","(256, 1, 1)","(100, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Memory Throughput","%","87.0"
"2","1","bench","h","gemm_kernel","1","7","(128, 1, 1)","(64, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Duration","msecond","1.00"
"2","1","bench","h","gemm_kernel","1","7","(128, 1, 1)","(64, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Compute (SM) Throughput","%","90.0"
"2","1","bench","h","gemm_kernel","1","7","(128, 1, 1)","(64, 1, 1)","0","9.0","GPU Speed Of Light Throughput","Memory Throughput","%","40.0"
"2","1","bench","h","gemm_kernel","1","7","(128, 1, 1)","(64, 1, 1)","0","9.0","Occupancy","Achieved Occupancy","%","50.0"
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run(files, *extra):
    r = subprocess.run([sys.executable, SCRIPT, *extra, *files], capture_output=True, text=True)
    check(r.returncode == 0, f"summarise.py exited {r.returncode}: {r.stderr}")
    return r.stdout


def rows_of(md, title):
    """Table rows (as lists of cells) of the section whose heading contains `title`."""
    sec = md.split(title, 1)[1].split("###", 1)[0]
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in sec.splitlines() if line.startswith("| ") and "---" not in line][1:]


def main():
    if SCRIPT is None:
        print("summarise.py not found next to the tests")
        return 1
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, text in [("kern.csv", NSYS_KERN), ("kern_old.csv", NSYS_KERN_OLD),
                           ("nvtx.csv", NSYS_NVTX), ("mem.csv", NSYS_MEM), ("ncu.csv", NCU),
                           ("junk.csv", "a,b\n1,2\n")]:
            paths[name] = os.path.join(d, name)
            with open(paths[name], "w") as f:
                f.write(text)

        md = run([paths["kern.csv"]])
        rows = rows_of(md, "GPU kernels")
        check(len(rows) == 2, f"expected 2 kernel rows, got {rows}")
        check(rows[0][1].startswith("sm90_xmma_gemm"), f"largest kernel first: {rows[0]}")
        check(rows[0][2] == "80.0" and rows[0][3] == "8.000" and rows[0][4] == "4",
              f"share, ms and calls of the top kernel: {rows[0]}")
        check(rows[1][1] == "gnnrec::small_kernel<float>",
              f"name shortened (no void, anonymous namespace or parameters): {rows[1][1]}")
        check(rows[1][5] == "200.00", f"avg µs with thousands separators parsed: {rows[1]}")
        check("10.000 ms in total" in md, "total time in the heading")

        md = run([paths["kern_old.csv"]], "--top", "1")
        rows = rows_of(md, "GPU kernels")
        check(rows[0][1] == "kernel_a" and rows[0][5] == "0.20", f"old nsys columns: {rows[0]}")
        check(len(rows) == 2 and "1 more" in rows[1][1], f"--top folds the rest: {rows}")

        md = run([paths["nvtx.csv"], paths["mem.csv"], paths["junk.csv"]])
        check(rows_of(md, "NVTX ranges")[0][1] == "train_step", "NVTX ranges recognised")
        check(rows_of(md, "Memory operations")[0][4] == "2", "memory operations recognised")
        check("not a recognised" in md, "unknown CSV reported, not fatal")

        md = run([paths["ncu.csv"]])
        rows = rows_of(md, "ncu:")
        check(len(rows) == 2, f"two kernels in the ncu table: {rows}")
        check(rows[0][1] == "gemm_kernel" and rows[0][3] == "1000.00" and rows[0][10] == "compute",
              f"gemm: 1 ms = 1000 µs, compute bound: {rows[0]}")
        check(rows[1][1] == "gather_kernel" and rows[1][2] == "2" and rows[1][3] == "10.00",
              f"gather: 2 launches averaging (10.5 + 9.5) / 2 µs: {rows[1]}")
        check(rows[1][5] == "21.0" and rows[1][6] == "86.0" and rows[1][9] == "32" and
              rows[1][10] == "memory", f"gather metrics averaged, memory bound: {rows[1]}")

        out = os.path.join(d, "out.md")
        run([paths["kern.csv"]], "-o", out)
        check(os.path.exists(out) and "GPU kernels" in open(out).read(), "-o writes the file")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("summarise.py: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
