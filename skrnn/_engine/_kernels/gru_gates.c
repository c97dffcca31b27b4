/* GRU gate arithmetic: see gru_gates.h.
 *
 * Compiled on its own (setup.py) with -O3 -fno-math-errno -fopenmp-simd, so
 * that gcc vectorises the loops below (#pragma omp simd) and calls glibc's
 * libmvec for exp/expf (e.g. _ZGVdN8v_expf for AVX2); the extension links with
 * -lmvec. No -ffast-math: glibc's <math.h> declares the vector variants only
 * under __FAST_MATH__, so this file declares them itself; and under
 * -ffast-math gcc divides by a reciprocal estimate, which turns a saturated
 * float32 gate (1 / (1 + inf)) into NaN, a spurious NaN loss.
 *
 * NaN and inf: nothing here compares, clamps or selects on a value, so a NaN
 * entering a step flows through exp, +, *, / and leaves as NaN (the fit's
 * NaN-loss check still fires); an overflowing exp gives inf and
 * 1 / (1 + inf) = 0, the limit. tests/test_compiled_cells.py checks both.
 *
 * Each function is compiled three times (target_clones) and picked at load
 * time by the CPU: x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the
 * baseline (SSE2), so that a build is portable without -march=native.
 *
 * Rows are the outer loop and the SIMD loop runs along one row: every row is
 * computed by the same instructions whichever block of rows (thread) it is
 * part of, which keeps results independent of the number of threads.
 */
#include "simd.h"
#include "gru_gates.h"


#define GRU_FWD(NAME, T, EXP)                                                  \
    CLONES void NAME(int nb, int H, const T *xp, const T *rec, const T *b_hn,  \
                     const T *h_prev, T *gates, T *rec_n, T *h)                \
    {                                                                          \
        const long G = 3L * H;                                                 \
        for (long b = 0; b < nb; b++) {                                        \
            const T *restrict xr = xp + b * G, *restrict xz = xr + H;          \
            const T *restrict xn = xz + H;                                     \
            const T *restrict cr = rec + b * G, *restrict cz = cr + H;         \
            const T *restrict cn = cz + H;                                     \
            const T *restrict bh = b_hn;                                       \
            const T *restrict hp = h_prev + b * H;                             \
            T *restrict gr = gates + b * G, *restrict gz = gr + H;             \
            T *restrict gn = gz + H;                                           \
            T *restrict rn = rec_n + b * H;                                    \
            T *restrict hn = h + b * H;                                        \
            _Pragma("omp simd")                                                \
            for (long j = 0; j < H; j++) {                                     \
                T r = (T)1 / ((T)1 + EXP(-(xr[j] + cr[j])));                   \
                T z = (T)1 / ((T)1 + EXP(-(xz[j] + cz[j])));                   \
                T recn = cn[j] + bh[j];                                        \
                T a = r * recn + xn[j];                                        \
                T n = (T)2 / ((T)1 + EXP((T)-2 * a)) - (T)1;                   \
                gr[j] = r;                                                     \
                gz[j] = z;                                                     \
                gn[j] = n;                                                     \
                rn[j] = recn;                                                  \
                hn[j] = (hp[j] - n) * z + n;                                   \
            }                                                                  \
        }                                                                      \
    }

#define GRU_BWD(NAME, T)                                                       \
    CLONES void NAME(int nb, int H, const T *dhs, const T *gates,              \
                     const T *rec_n, const T *h_prev, T *dh, T *drec, T *dxp)  \
    {                                                                          \
        const long G = 3L * H;                                                 \
        for (long b = 0; b < nb; b++) {                                        \
            const T *restrict dy = dhs + b * H;                                \
            const T *restrict gr = gates + b * G, *restrict gz = gr + H;       \
            const T *restrict gn = gz + H;                                     \
            const T *restrict rn = rec_n + b * H;                              \
            const T *restrict hp = h_prev + b * H;                             \
            T *restrict d = dh + b * H;                                        \
            T *restrict dr_r = drec + b * G, *restrict dr_z = dr_r + H;        \
            T *restrict dr_n = dr_z + H;                                       \
            T *restrict dx_r = dxp + b * G, *restrict dx_z = dx_r + H;         \
            T *restrict dx_n = dx_z + H;                                       \
            _Pragma("omp simd")                                                \
            for (long j = 0; j < H; j++) {                                     \
                T r = gr[j], z = gz[j], n = gn[j];                             \
                T dhj = d[j] + dy[j];                                          \
                T dnp = dhj * (((T)1 - z) * ((T)1 - n * n));                   \
                T d_r = dnp * rn[j] * (r * ((T)1 - r));                        \
                T d_z = dhj * ((hp[j] - n) * (z * ((T)1 - z)));                \
                dr_r[j] = d_r;                                                 \
                dr_z[j] = d_z;                                                 \
                dr_n[j] = dnp * r;                                             \
                dx_r[j] = d_r;                                                 \
                dx_z[j] = d_z;                                                 \
                dx_n[j] = dnp;                                                 \
                d[j] = dhj * z;                                                \
            }                                                                  \
        }                                                                      \
    }

GRU_FWD(gru_fwd_gates_f, float, expf)
GRU_FWD(gru_fwd_gates_d, double, exp)
GRU_BWD(gru_bwd_gates_f, float)
GRU_BWD(gru_bwd_gates_d, double)
