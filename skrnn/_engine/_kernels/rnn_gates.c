/* Elman ("rnn") gate arithmetic: see rnn_gates.h.
 *
 * Built as gru_gates.c is, and for the same reasons (see its comment): on its
 * own with -O3 -fno-math-errno -fopenmp-simd, so that gcc vectorises the loops
 * below (#pragma omp simd) and calls glibc's libmvec for exp/expf; no
 * -ffast-math, so the libmvec variants are declared here; one clone per ISA
 * (target_clones), picked at load time.
 *
 * tanh is 2 / (1 + exp(-2a)) - 1, as the NumPy cell's float64 route computes
 * it. NaN and inf: nothing here compares, clamps or selects on a value, so a
 * NaN flows through and leaves as NaN; an overflowing exp gives inf, and
 * 2 / (1 + inf) - 1 = -1 is the limit. tests/test_compiled_cells.py checks
 * both.
 *
 * Rows are the outer loop and the SIMD loop runs along one row, so a row's
 * results do not depend on the block of rows (thread) it is part of.
 */
#include "simd.h"
#include "rnn_gates.h"


#define RNN_FWD(NAME, T, EXP)                                                  \
    CLONES void NAME(int nb, int H, const T *xp, T *h)                         \
    {                                                                          \
        for (long b = 0; b < nb; b++) {                                        \
            const T *restrict x = xp + b * H;                                  \
            T *restrict hn = h + b * H;                                        \
            _Pragma("omp simd")                                                \
            for (long j = 0; j < H; j++)                                       \
                hn[j] = (T)2 / ((T)1 + EXP((T)-2 * (hn[j] + x[j]))) - (T)1;    \
        }                                                                      \
    }

#define RNN_BWD(NAME, T)                                                       \
    CLONES void NAME(int nb, int H, const T *dhs, const T *h, const T *dh,     \
                     T *dpre)                                                  \
    {                                                                          \
        for (long b = 0; b < nb; b++) {                                        \
            const T *restrict dy = dhs + b * H, *restrict dhr = dh + b * H;    \
            const T *restrict hr = h + b * H;                                  \
            T *restrict dp = dpre + b * H;                                     \
            _Pragma("omp simd")                                                \
            for (long j = 0; j < H; j++)                                       \
                dp[j] = (dhr[j] + dy[j]) * ((T)1 - hr[j] * hr[j]);             \
        }                                                                      \
    }

RNN_FWD(rnn_fwd_gates_f, float, expf)
RNN_FWD(rnn_fwd_gates_d, double, exp)
RNN_BWD(rnn_bwd_gates_f, float)
RNN_BWD(rnn_bwd_gates_d, double)
