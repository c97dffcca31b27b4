/* Inverted dropout with masks from a counter-based hash (dropout_mask.c).
 *
 * Element i of an array (counted from the array's start, whatever block of it
 * a thread is given) is kept when draw(i) < threshold, where
 *   draw(i) = mix32(mix32(i + key0) ^ key1)
 * and mix32 is Wellons' "lowbias32" integer hash; kept elements are scaled by
 * `scale` (1 / keep):
 *   mask[i] = kept ? scale : 0,   y[i] = x[i] * mask[i].
 * `start` is the index of the block's first element. skrnn/_engine/dropout.py
 * computes the same draws in NumPy (the reference).
 */
#ifndef SKRNN_DROPOUT_MASK_H
#define SKRNN_DROPOUT_MASK_H

#include <stdint.h>

void dropout_f(long start, long n, const float *x, float *y, float *mask,
               uint32_t key0, uint32_t key1, uint32_t threshold, float scale);
void dropout_d(long start, long n, const double *x, double *y, double *mask,
               uint32_t key0, uint32_t key1, uint32_t threshold, double scale);

#endif
