/* The time loops' recurrent product, one step for a block of rows:
 *
 *   C (M, N) = A (M, K) @ W (K, N)         (accumulate = 0)
 *   C (M, N) += A (M, K) @ W (K, N)        (accumulate = 1)
 *
 * with W packed once per loop in column panels (gemm.panels): panel
 * p holds columns p*NR .. p*NR + NR - 1 of W, K rows of NR numbers each (NR =
 * 64 bytes' worth: 16 floats, 8 doubles), the last panel padded with zeros.
 * A and C are row-major with leading dimensions lda and ldc.
 *
 * Implemented in panel_product.c, compiled on its own (see setup.py).
 */
#ifndef SKRNN_PANEL_PRODUCT_H
#define SKRNN_PANEL_PRODUCT_H

#define PANEL_BYTES 64

void panel_product_f(int M, int N, int K, const float *A, int lda,
                     const float *W, float *C, int ldc, int accumulate);
void panel_product_d(int M, int N, int K, const double *A, int lda,
                     const double *W, double *C, int ldc, int accumulate);

#endif
