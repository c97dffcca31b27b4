/* Gate arithmetic of the LSTM cell, one step for a block of rows.
 *
 * Implemented in lstm_gates.c, compiled on its own (see setup.py). Layouts are
 * row-major, one row per batch element: G = 4H, gates i | f | g | o.
 *
 * Forward, per row, gates entering holding rec = h_prev @ W_rec:
 *   i = sigmoid(xp_i + rec_i)      f = sigmoid(xp_f + rec_f)
 *   g = tanh(xp_g + rec_g)         o = sigmoid(xp_o + rec_o)
 *   c = f * c_prev + i * g         h = o * tanh(c)
 * writing gates (i, f, g, o after activation, in place), c, tanh(c) and h.
 *
 * Backward, per row, dh being the gradient w.r.t. this step's h (without dhs)
 * and dc (in/out) that w.r.t. its c:
 *   dh' = dh + dhs
 *   dc += dh' o (1 - tanh(c)^2)
 *   dpre = [dc g i (1 - i), dc c_prev f (1 - f), dc i (1 - g^2),
 *           dh' tanh(c) o (1 - o)]
 *   dc  = dc * f          (the caller then sets dh = dpre @ W_rec^T)
 */
#ifndef SKRNN_LSTM_GATES_H
#define SKRNN_LSTM_GATES_H

void lstm_fwd_gates_f(int nb, int H, const float *xp, const float *c_prev,
                      float *gates, float *c, float *tanh_c, float *h);
void lstm_fwd_gates_d(int nb, int H, const double *xp, const double *c_prev,
                      double *gates, double *c, double *tanh_c, double *h);

void lstm_bwd_gates_f(int nb, int H, const float *dhs, const float *gates,
                      const float *c_prev, const float *tanh_c, const float *dh,
                      float *dc, float *dpre);
void lstm_bwd_gates_d(int nb, int H, const double *dhs, const double *gates,
                      const double *c_prev, const double *tanh_c,
                      const double *dh, double *dc, double *dpre);

#endif
