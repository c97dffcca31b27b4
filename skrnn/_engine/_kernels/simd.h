/* What every gate helper shares: glibc's vector exp and the per-CPU clones.
 *
 * Included by each <cell>_gates.c (compiled with -O3 -fno-math-errno
 * -fopenmp-simd, see setup.py) and, for gates_isa(), by the Cython modules.
 * No -ffast-math: glibc's <math.h> declares the vector variants of exp only
 * under __FAST_MATH__, so they are declared here.
 *
 * CLONES compiles a function three times (target_clones), picked at load time
 * by the CPU: x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline
 * (SSE2), so that a build is portable without -march=native.
 */
#ifndef SKRNN_SIMD_H
#define SKRNN_SIMD_H

#include <math.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__FAST_MATH__)
/* glibc's libmvec entry points, as <bits/math-vector.h> would declare them */
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) double exp(double);
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(SKRNN_NO_CLONES)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* which clone the CPU picks (for reports and benchmarks) */
static inline const char *gates_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(SKRNN_NO_CLONES)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        return "x86-64-v4 (AVX-512)";
    if (__builtin_cpu_supports("x86-64-v3"))
        return "x86-64-v3 (AVX2+FMA)";
    return "x86-64 baseline (SSE2)";
#else
    return "no dispatch";
#endif
}

#endif
