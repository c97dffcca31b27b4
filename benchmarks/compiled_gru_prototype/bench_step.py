"""Per-step time of the GRU cell: skrnn's NumPy GRUCell against the compiled one.

Run on a quiet machine, from this folder, after building in place:

    python bench_step.py                # float32, H=128, T=30, B in {32, 64}
    python bench_step.py --smoke        # seconds-long check that it runs

Every configuration runs as a fit would: BLAS limited to one thread
(threadpoolctl), skrnn's ``gemm.threads(n)`` set to the same ``n`` as the
compiled loop's OpenMP threads (it splits the one weight-gradient GEMM of the
backward pass, in both cells). A row's time is the best of ``--repeats``
calls, divided by T. "fwd+bwd" is a forward call followed by a backward call.

Rows: the NumPy cell (1 thread), then the compiled cell at each thread count
in three ways of cutting the batch into blocks (each block one time loop, one
BLAS call per step): "rows16" (the default, blocks of 16 rows) and "rows32"
(blocks fixed by B alone: results bit for bit the same at any thread count),
and "blk/thr" (``slice_rows=0``: one block per thread, the fewest and largest
BLAS calls; results equal across thread counts to rounding only). "x" is the
NumPy time over the compiled time; "blk" the blocks of rows, "thr" the threads
that run a time loop (at most one per block: "rows32" at B=32 is one block,
so it runs on one thread whatever ``n``). The last block splits the compiled forward
(one thread) into its BLAS and gate-helper parts: each BLAS call packs all of
W_rec, so its cost has a large fixed part per call.

Goal from issue 30: the compiled step with both cores busy >= 1.5x faster than
the NumPy step.
"""

import argparse
import os
import platform
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _gru  # noqa: E402
from gru_proto import CompiledGRUCell  # noqa: E402

from skrnn._engine.cells import GRUCell  # noqa: E402
from skrnn._engine.gemm import threads  # noqa: E402


def _problem(T, B, H, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = {k: v[None] for k, v in GRUCell().init_recurrent(rng, H, dtype).items()}
    xproj = (0.5 * rng.standard_normal((T, 1, B, 3 * H))).astype(dtype)
    h0 = np.zeros((1, B, H), dtype=dtype)
    dhs = rng.standard_normal((T, 1, B, H)).astype(dtype)
    return params, xproj, h0, dhs


def _best(function, repeats, warmup=2):
    for _ in range(warmup):
        function()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _time_cell(cell, n_threads, problem, repeats):
    params, xproj, h0, dhs = problem

    def forward():
        cell.forward(params, xproj, h0)

    def step():
        _, cache = cell.forward(params, xproj, h0)
        cell.backward(params, dhs, cache)

    with threads(n_threads):
        return _best(forward, repeats), _best(step, repeats)


def _profile(problem, slice_rows, repeats):
    params, xproj, h0, _ = problem
    T, _, B, G = xproj.shape
    H = G // 3
    W = np.ascontiguousarray(params["W_rec"][0])
    b_hn = np.ascontiguousarray(params["b_hn"][0])
    hs = np.zeros((T + 1, B, H), dtype=xproj.dtype)
    gates = np.empty((T, B, G), dtype=xproj.dtype)
    rec_n = np.empty((T, B, H), dtype=xproj.dtype)
    x = np.ascontiguousarray(xproj[:, 0])
    best = (np.inf, np.inf)
    for _ in range(repeats + 2):
        parts = _gru.profile_forward(x, W, b_hn, hs, gates, rec_n, slice_rows)
        if sum(parts) < sum(best):
            best = parts
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and repeats, to check it runs"
    )
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.steps, args.batch, args.hidden = 2, 5, [8, 24], 16
    dtype = np.dtype(args.dtype).type
    T, H = args.steps, args.hidden

    blas = [
        (i["internal_api"], i["version"])
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# gate helper: {_gru.gates_isa()}, {_gru.gates_mode()}; BLAS: {blas}")
    print(
        f"# {args.dtype}, H={H}, T={T}, best of {args.repeats}, microseconds per step"
    )
    variants = [("numpy", None, None)]
    for n in args.threads:
        for label, slice_rows in [("rows16", 16), ("rows32", 32), ("blk/thr", 0)]:
            variants.append((f"compiled {n}t {label}", n, slice_rows))

    header = (
        f"{'B':>4} {'cell':<22} {'blk':>3} {'thr':>3} "
        f"{'fwd us':>8} {'x':>5} {'fwd+bwd us':>11} {'x':>5}"
    )
    with threadpool_limits(limits=1, user_api="blas"):
        print(header)
        print("-" * len(header))
        verdict = []
        for B in args.batch:
            problem = _problem(T, B, H, dtype)
            base = None
            for name, n, slice_rows in variants:
                if n is None:
                    cell, n_threads, blocks = GRUCell(), 1, 1
                else:
                    cell, n_threads = CompiledGRUCell(n, slice_rows), n
                    blocks = -(-B // slice_rows) if slice_rows else min(n, B)
                # threads that actually run a time loop: at most one per block
                busy = min(n_threads, blocks)
                fwd, step = _time_cell(cell, n_threads, problem, args.repeats)
                fwd, step = fwd / T * 1e6, step / T * 1e6
                if base is None:
                    base = (fwd, step)
                print(
                    f"{B:>4} {name:<22} {blocks:>3} {busy:>3} "
                    f"{fwd:8.1f} {base[0] / fwd:5.2f} "
                    f"{step:11.1f} {base[1] / step:5.2f}"
                )
                if busy > 1:
                    verdict.append((B, name, base[0] / fwd, base[1] / step))
            print()
        print("compiled forward on 1 thread, split (us per step):")
        for B in args.batch:
            problem = _problem(T, B, H, dtype)
            for slice_rows in sorted({16, B}):
                gemm, gates = _profile(problem, slice_rows, args.repeats)
                calls = -(-B // slice_rows)
                print(
                    f"  B={B:<3} blocks of {slice_rows:>3} rows ({calls} BLAS "
                    f"call(s)/step): BLAS {gemm / T * 1e6:6.1f}, "
                    f"gates {gates / T * 1e6:6.1f}"
                )
        if verdict and args.smoke:
            print("\n(smoke sizes: no verdict)")
        elif verdict:
            print(
                "\ngoal (issue 30): >= 1.5x the NumPy step with both cores busy"
                " (rows with thr > 1)"
            )
            for B, name, x_fwd, x_step in verdict:
                ok = "meets" if x_step >= 1.5 else "misses"
                print(
                    f"  B={B:<3} {name:<22} fwd {x_fwd:.2f}x, "
                    f"fwd+bwd {x_step:.2f}x: {ok}"
                )


if __name__ == "__main__":
    main()
