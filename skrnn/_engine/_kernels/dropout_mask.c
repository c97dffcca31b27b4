/* Inverted dropout: see dropout_mask.h.
 *
 * Built on its own with -O3 -fopenmp-simd (setup.py), one clone per ISA
 * (simd.h), so that the hash runs on 8 or 16 lanes: drawing the mask, scaling
 * and applying it is one pass, where NumPy's uniform floats alone cost several
 * nanoseconds a number (session 23). The draws are integers and the only
 * floating-point operation is x * mask, as NumPy computes it, so the results
 * are the NumPy reference's bit for bit.
 */
#include "simd.h"
#include "dropout_mask.h"

/* lowbias32 (C. Wellons, hash-prospector): a bijection of 32-bit integers
 * whose output bits each depend on every input bit */
static inline uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352dU;
    h ^= h >> 15;
    h *= 0x846ca68bU;
    h ^= h >> 16;
    return h;
}

#define DROPOUT(NAME, T)                                                       \
    CLONES void NAME(long start, long n, const T *restrict x, T *restrict y,   \
                     T *restrict mask, uint32_t key0, uint32_t key1,           \
                     uint32_t threshold, T scale)                              \
    {                                                                          \
        _Pragma("omp simd")                                                    \
        for (long i = 0; i < n; i++) {                                         \
            uint32_t draw = mix32(mix32((uint32_t)(start + i) + key0) ^ key1); \
            T m = draw < threshold ? scale : (T)0;                             \
            mask[i] = m;                                                       \
            y[i] = x[i] * m;                                                   \
        }                                                                      \
    }

DROPOUT(dropout_f, float)
DROPOUT(dropout_d, double)
