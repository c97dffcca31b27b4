/* LSTM gate arithmetic: see lstm_gates.h.
 *
 * Built as gru_gates.c is, and for the same reasons (see its comment): on its
 * own with -O3 -fno-math-errno -fopenmp-simd, so that gcc vectorises the loops
 * below (#pragma omp simd) and calls glibc's libmvec for exp/expf; no
 * -ffast-math, so the libmvec variants are declared here; one clone per ISA
 * (target_clones), picked at load time.
 *
 * tanh is 2 / (1 + exp(-2a)) - 1 and sigmoid 1 / (1 + exp(-a)), as the NumPy
 * cell's float64 route computes them. NaN and inf: nothing here compares,
 * clamps or selects on a value, so a NaN flows through and leaves as NaN; an
 * overflowing exp gives inf, and 1 / (1 + inf) = 0 and 2 / (1 + inf) - 1 = -1
 * are the limits. tests/test_compiled_cells.py checks both.
 *
 * Rows are the outer loop and the SIMD loop runs along one row, so a row's
 * results do not depend on the block of rows (thread) it is part of.
 */
#include "simd.h"
#include "lstm_gates.h"


#define LSTM_FWD(NAME, T, EXP)                                                 \
    CLONES void NAME(int nb, int H, const T *xp, const T *c_prev, T *gates,    \
                     T *c, T *tanh_c, T *h)                                    \
    {                                                                          \
        const long G = 4L * H;                                                 \
        for (long b = 0; b < nb; b++) {                                        \
            const T *restrict xi = xp + b * G, *restrict xf = xi + H;          \
            const T *restrict xg = xf + H, *restrict xo = xg + H;              \
            const T *restrict cp = c_prev + b * H;                             \
            T *restrict gi = gates + b * G, *restrict gf = gi + H;             \
            T *restrict gg = gf + H, *restrict go = gg + H;                    \
            T *restrict cn = c + b * H, *restrict tc = tanh_c + b * H;         \
            T *restrict hn = h + b * H;                                        \
            _Pragma("omp simd")                                                \
            for (long j = 0; j < H; j++) {                                     \
                T i = (T)1 / ((T)1 + EXP(-(xi[j] + gi[j])));                   \
                T f = (T)1 / ((T)1 + EXP(-(xf[j] + gf[j])));                   \
                T g = (T)2 / ((T)1 + EXP((T)-2 * (xg[j] + gg[j]))) - (T)1;     \
                T o = (T)1 / ((T)1 + EXP(-(xo[j] + go[j])));                   \
                T cj = f * cp[j] + i * g;                                      \
                T t = (T)2 / ((T)1 + EXP((T)-2 * cj)) - (T)1;                  \
                gi[j] = i;                                                     \
                gf[j] = f;                                                     \
                gg[j] = g;                                                     \
                go[j] = o;                                                     \
                cn[j] = cj;                                                    \
                tc[j] = t;                                                     \
                hn[j] = o * t;                                                 \
            }                                                                  \
        }                                                                      \
    }

#define LSTM_BWD(NAME, T)                                                      \
    CLONES void NAME(int nb, int H, const T *dhs, const T *gates,              \
                     const T *c_prev, const T *tanh_c, const T *dh, T *dc,     \
                     T *dpre)                                                  \
    {                                                                          \
        const long G = 4L * H;                                                 \
        for (long b = 0; b < nb; b++) {                                        \
            const T *restrict dy = dhs + b * H, *restrict dhr = dh + b * H;    \
            const T *restrict gi = gates + b * G, *restrict gf = gi + H;       \
            const T *restrict gg = gf + H, *restrict go = gg + H;              \
            const T *restrict cp = c_prev + b * H;                             \
            const T *restrict tc = tanh_c + b * H;                             \
            T *restrict d = dc + b * H;                                        \
            T *restrict di = dpre + b * G, *restrict df = di + H;              \
            T *restrict dg = df + H, *restrict dout = dg + H;                  \
            _Pragma("omp simd")                                                \
            for (long j = 0; j < H; j++) {                                     \
                T i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j];       \
                T dhj = dhr[j] + dy[j];                                        \
                T dcj = d[j] + dhj * (o * ((T)1 - t * t));                     \
                di[j] = dcj * (g * i * ((T)1 - i));                            \
                df[j] = dcj * (cp[j] * f * ((T)1 - f));                        \
                dg[j] = dcj * (i * ((T)1 - g * g));                            \
                dout[j] = dhj * (t * o * ((T)1 - o));                          \
                d[j] = dcj * f;                                                \
            }                                                                  \
        }                                                                      \
    }

LSTM_FWD(lstm_fwd_gates_f, float, expf)
LSTM_FWD(lstm_fwd_gates_d, double, exp)
LSTM_BWD(lstm_bwd_gates_f, float)
LSTM_BWD(lstm_bwd_gates_d, double)
