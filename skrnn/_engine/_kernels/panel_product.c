/* The time loops' recurrent product: see panel_product.h.
 *
 * Why not BLAS: a step's product is a few rows (the 10 streams of a thread of
 * the language model, 16 rows of a tagger's batch) against weights of a few
 * hundred KB, and a BLAS call packs those weights anew every step, which is
 * as much memory traffic as the product itself: OpenBLAS ran the language
 * model's 10 x 200 @ 200 x 800 at 15 GMAC/s, this loop at 30 (session 21).
 * Here the weights are packed once per time loop.
 *
 * The loop is the register tile of Goto's GEMM: R <= 6 rows by one panel (two
 * vectors of 8 floats or 4 doubles), 2R accumulators kept in registers across
 * the whole of K, each an FMA chain along k. Blocks of rows are made as even
 * as the rows allow (10 rows: 5 + 5, not 6 + 4), since below 5 rows the
 * chains are too few to hide an FMA's latency. Rows are taken in chunks
 * whose share of A stays in cache while every panel passes.
 *
 * Every element of C is the same chain of multiply-adds, k = 0 .. K - 1,
 * whatever the block, chunk or number of rows it was computed in: a row's
 * result does not depend on the rows beside it, so the loops give the same
 * bits at any thread count and batch composition.
 *
 * GCC's generic vectors (vector_size) compile to whatever each clone has
 * (target_clones, simd.h): AVX2 + FMA, AVX-512, or pairs of SSE2 registers.
 */
#include <string.h>

#include "simd.h"
#include "panel_product.h"

/* a panel's row is the two vectors (lo, hi) of a tile's row */
_Static_assert(PANEL_BYTES == 2 * 32, "a panel is two 32-byte vectors wide");

#define MAX_TILE_ROWS 6
#define CHUNK_ROWS (8 * MAX_TILE_ROWS)

#define ROW_FMA(r)                                                             \
    if (R > r) {                                                               \
        lo##r += A##r[k] * b0;                                                 \
        hi##r += A##r[k] * b1;                                                 \
    }
#define ROW_STORE(r)                                                           \
    if (R > r)                                                                 \
        STORE(lo##r, hi##r, C + r * ldc, w, accumulate);

#define PANEL_PRODUCT(NAME, T, V)                                              \
    typedef T V __attribute__((vector_size(32)));                              \
    enum { V##_LANES = 32 / sizeof(T), V##_NR = PANEL_BYTES / sizeof(T) };     \
                                                                               \
    /* one row of a tile into C: w = NR columns, or fewer in the last panel */ \
    static inline __attribute__((always_inline)) void V##_store(               \
        V lo, V hi, T *c, int w, int accumulate)                               \
    {                                                                          \
        T row[V##_NR];                                                         \
        if (w == V##_NR) { /* two vector stores, not a call of memcpy */       \
            if (accumulate) {                                                  \
                V c_lo, c_hi;                                                  \
                memcpy(&c_lo, c, sizeof c_lo);                                 \
                memcpy(&c_hi, c + V##_LANES, sizeof c_hi);                     \
                lo += c_lo;                                                    \
                hi += c_hi;                                                    \
            }                                                                  \
            memcpy(c, &lo, sizeof lo);                                         \
            memcpy(c + V##_LANES, &hi, sizeof hi);                             \
            return;                                                            \
        }                                                                      \
        memcpy(row, &lo, sizeof lo);                                           \
        memcpy(row + V##_LANES, &hi, sizeof hi);                               \
        if (accumulate)                                                        \
            for (int j = 0; j < w; j++)                                        \
                c[j] += row[j];                                                \
        else                                                                   \
            memcpy(c, row, (size_t)w * sizeof(T));                             \
    }                                                                          \
                                                                               \
    /* C (R, w) (+)= A (R, K) @ panel (K, NR): R is a constant once inlined */ \
    static inline __attribute__((always_inline)) void V##_tile(                \
        const int R, int K, const T *A, long lda, const T *panel, T *C,        \
        long ldc, int w, int accumulate)                                       \
    {                                                                          \
        V lo0 = {0}, lo1 = {0}, lo2 = {0}, lo3 = {0}, lo4 = {0}, lo5 = {0};    \
        V hi0 = {0}, hi1 = {0}, hi2 = {0}, hi3 = {0}, hi4 = {0}, hi5 = {0};    \
        const T *A0 = A, *A1 = A + lda, *A2 = A + 2 * lda, *A3 = A + 3 * lda,  \
                *A4 = A + 4 * lda, *A5 = A + 5 * lda;                          \
        for (int k = 0; k < K; k++) {                                          \
            V b0, b1;                                                          \
            memcpy(&b0, panel + (long)k * V##_NR, sizeof b0);                  \
            memcpy(&b1, panel + (long)k * V##_NR + V##_LANES, sizeof b1);      \
            ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)  \
        }                                                                      \
        ROW_STORE(0) ROW_STORE(1) ROW_STORE(2)                                 \
        ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)                                 \
    }                                                                          \
                                                                               \
    CLONES void NAME(int M, int N, int K, const T *A, int lda, const T *W,     \
                     T *C, int ldc, int accumulate)                            \
    {                                                                          \
        int n_panels = (N + V##_NR - 1) / V##_NR;                              \
        for (int m0 = 0; m0 < M; m0 += CHUNK_ROWS) {                           \
            int rows = M - m0 < CHUNK_ROWS ? M - m0 : CHUNK_ROWS;              \
            int tiles = (rows + MAX_TILE_ROWS - 1) / MAX_TILE_ROWS;            \
            for (int p = 0; p < n_panels; p++) {                               \
                int n0 = p * V##_NR, w = N - n0 < V##_NR ? N - n0 : V##_NR;    \
                const T *panel = W + (long)p * K * V##_NR;                     \
                for (int i = 0, m = m0; i < tiles; i++) {                      \
                    /* the rows left, shared evenly by the tiles left */       \
                    int left = m0 + rows - m, R = (left + tiles - i - 1) /     \
                                                  (tiles - i);                 \
                    const T *a = A + (long)m * lda;                            \
                    T *c = C + (long)m * ldc + n0;                             \
                    switch (R) {                                               \
                    case 6: V##_tile(6, K, a, lda, panel, c, ldc, w, accumulate); break; \
                    case 5: V##_tile(5, K, a, lda, panel, c, ldc, w, accumulate); break; \
                    case 4: V##_tile(4, K, a, lda, panel, c, ldc, w, accumulate); break; \
                    case 3: V##_tile(3, K, a, lda, panel, c, ldc, w, accumulate); break; \
                    case 2: V##_tile(2, K, a, lda, panel, c, ldc, w, accumulate); break; \
                    default: V##_tile(1, K, a, lda, panel, c, ldc, w, accumulate); \
                    }                                                          \
                    m += R;                                                    \
                }                                                              \
            }                                                                  \
        }                                                                      \
    }

#define STORE(lo, hi, c, w, acc) vf_store(lo, hi, c, w, acc)
PANEL_PRODUCT(panel_product_f, float, vf)
#undef STORE
#define STORE(lo, hi, c, w, acc) vd_store(lo, hi, c, w, acc)
PANEL_PRODUCT(panel_product_d, double, vd)
#undef STORE
