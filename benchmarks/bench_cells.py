"""The time loop of one cell, NumPy against compiled: microseconds per step.

For every cell the extension compiles (``skrnn._engine.compiled_cells``), one
direction's forward and backward over a float32 batch (``T`` steps of ``B``
rows, hidden size ``H``, BLAS at one thread as in skrnn's fits), at 1 and 2
engine threads (``skrnn._engine.threads``), best of ``--repeats``. The backward
includes the weight gradient after the loop, as the engine runs it. This is a
profile of the loops alone; what users call is measured, against PyTorch, by
``bench_estimators.py``.

Run ``python benchmarks/bench_cells.py`` on a quiet machine.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skrnn._engine.cells import CELLS
from skrnn._engine.compiled_cells import COMPILED_CELLS, compiled_isa
from skrnn._engine.gemm import threads


def _time_steps(cell, params, xproj, h0, dhs, repeats):
    forward = backward = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        _, cache = cell.forward(params, xproj, h0)
        middle = time.perf_counter()
        cell.backward(params, dhs, cache)
        end = time.perf_counter()
        forward, backward = min(forward, middle - start), min(backward, end - middle)
    T = xproj.shape[0]
    return 1e6 * forward / T, 1e6 * backward / T


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    T, H = args.steps, args.hidden_size
    print(
        f"# float32, T={T}, H={H}, best of {args.repeats}; gates and the loops' "
        f"product: {compiled_isa()}"
    )
    print(
        "| cell | B | threads | NumPy fwd | compiled fwd | × | NumPy fwd+bwd "
        "| compiled fwd+bwd | × |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for name in sorted(COMPILED_CELLS):
        for B in args.batch_sizes:
            reference = CELLS[name]()
            params = {
                k: v[None]
                for k, v in reference.init_recurrent(rng, H, np.float32).items()
            }
            G = reference.n_gates * H
            xproj = rng.standard_normal((T, 1, B, G)).astype(np.float32)
            h0 = np.zeros((1, B, H), dtype=np.float32)
            dhs = rng.standard_normal((T, 1, B, H)).astype(np.float32)
            for n_threads in (1, 2):
                with threadpool_limits(1, "blas"), threads(n_threads):
                    numpy_times = _time_steps(
                        reference, params, xproj, h0, dhs, args.repeats
                    )
                    compiled_times = _time_steps(
                        COMPILED_CELLS[name](), params, xproj, h0, dhs, args.repeats
                    )
                nf, nb = numpy_times
                cf, cb = compiled_times
                print(
                    f"| {name} | {B} | {n_threads} | {nf:.1f} | {cf:.1f} | "
                    f"{nf / cf:.2f} | {nf + nb:.1f} | {cf + cb:.1f} | "
                    f"{(nf + nb) / (cf + cb):.2f} |"
                )


if __name__ == "__main__":
    main()
