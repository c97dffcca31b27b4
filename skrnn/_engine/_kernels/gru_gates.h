/* Gate arithmetic of the GRU cell, one step for a block of rows.
 *
 * Implemented in gru_gates.c, compiled on its own (see setup.py). Layouts are
 * row-major, one row per batch element: G = 3H, gates r | z | n.
 *
 * Forward, per row (rec = h_prev @ W_rec, without any bias):
 *   r = sigmoid(xp_r + rec_r)          z = sigmoid(xp_z + rec_z)
 *   rec_n = rec_n + b_hn               n = tanh(xp_n + r * rec_n)
 *   h = (h_prev - n) * z + n
 * writing gates (r, z, n after activation), rec_n and h.
 *
 * Backward, per row, dh (in/out) being the gradient w.r.t. this step's h:
 *   dh += dhs
 *   dn_pre = dh (1 - z)(1 - n^2)
 *   drec  = [dn_pre rec_n r (1 - r), dh (h_prev - n) z (1 - z), dn_pre r]
 *   dxp   = [drec_r, drec_z, dn_pre]
 *   dh    = dh * z            (the caller then adds drec @ W_rec^T)
 */
#ifndef SKRNN_GRU_GATES_H
#define SKRNN_GRU_GATES_H

void gru_fwd_gates_f(int nb, int H, const float *xp, const float *rec,
                     const float *b_hn, const float *h_prev, float *gates,
                     float *rec_n, float *h);
void gru_fwd_gates_d(int nb, int H, const double *xp, const double *rec,
                     const double *b_hn, const double *h_prev, double *gates,
                     double *rec_n, double *h);

void gru_bwd_gates_f(int nb, int H, const float *dhs, const float *gates,
                     const float *rec_n, const float *h_prev, float *dh,
                     float *drec, float *dxp);
void gru_bwd_gates_d(int nb, int H, const double *dhs, const double *gates,
                     const double *rec_n, const double *h_prev, double *dh,
                     double *drec, double *dxp);

#endif
