/* Gate arithmetic of the Elman cell (the engine's "rnn"), one step for a block
 * of rows.
 *
 * Implemented in rnn_gates.c, compiled on its own (see setup.py). Layouts are
 * row-major, one row per batch element, H wide.
 *
 * Forward, per row, h entering holding rec = h_prev @ W_rec:
 *   h = tanh(xp + rec)                      (in place)
 *
 * Backward, per row, dh being the gradient w.r.t. this step's h (without dhs):
 *   dpre = (dh + dhs)(1 - h^2)              (the caller then sets
 *                                            dh = dpre @ W_rec^T)
 */
#ifndef SKRNN_RNN_GATES_H
#define SKRNN_RNN_GATES_H

void rnn_fwd_gates_f(int nb, int H, const float *xp, float *h);
void rnn_fwd_gates_d(int nb, int H, const double *xp, double *h);

void rnn_bwd_gates_f(int nb, int H, const float *dhs, const float *h,
                     const float *dh, float *dpre);
void rnn_bwd_gates_d(int nb, int H, const double *dhs, const double *h,
                     const double *dh, double *dpre);

#endif
