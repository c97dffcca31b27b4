"""Build the prototype in place: ``python setup.py build_ext --inplace``.

Two translation units with different flags:
- ``_gru.c`` (Cython output: the time loops, BLAS calls, OpenMP threads):
  ``-O3 -fopenmp``, IEEE arithmetic (no -ffast-math);
- ``gru_gates.c`` (the gate arithmetic only): ``-O3 -fno-math-errno
  -fopenmp-simd``, compiled first by ``BuildExt`` and handed to the link as an
  object file. It vectorises exp/expf through libmvec without -ffast-math (it
  declares the vector variants itself). ``SKRNN_FAST_MATH=1`` adds -ffast-math
  to this file only, as in the issue's first prototype.
Link: ``-fopenmp`` (libgomp) and ``-lmvec`` (glibc's vector exp/expf). -ffast-math
is never passed to the link (gcc < 13 would then add crtfastmath.o, which turns
on flush-to-zero for the whole process when the module is imported).

No -march=native: gru_gates.c carries its own per-CPU clones (target_clones).
Set SKRNN_NATIVE=1 to build both units with -march=native instead.
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = os.environ.get("SKRNN_NATIVE") == "1"
FAST_MATH = os.environ.get("SKRNN_FAST_MATH") == "1"

HELPERS = [("gru_gates.c", ["gru_gates.h"])]
HELPER_FLAGS = ["-O3", "-fno-math-errno", "-fopenmp-simd", "-Wall", "-Wextra"]
if FAST_MATH:
    HELPER_FLAGS.append("-ffast-math")
LOOP_FLAGS = ["-O3", "-fopenmp"]
if NATIVE:
    HELPER_FLAGS += ["-march=native", "-DSKRNN_NO_CLONES"]
    LOOP_FLAGS += ["-march=native"]


class BuildExt(build_ext):
    """Compile the gate helper with its own flags, then the extension."""

    def build_extension(self, ext):
        objects = []
        for source, depends in HELPERS:
            objects += self.compiler.compile(
                [source],
                output_dir=self.build_temp,
                include_dirs=[HERE],
                extra_postargs=HELPER_FLAGS,
                depends=depends,
            )
        ext.extra_objects = list(ext.extra_objects or []) + objects
        super().build_extension(ext)


if sys.platform != "linux":
    raise SystemExit("prototype: Linux + gcc + glibc (libmvec) only")

extensions = [
    Extension(
        "_gru",
        sources=["_gru.pyx"],
        depends=["gru_gates.h", "gru_gates.c"],
        include_dirs=[HERE],
        extra_compile_args=LOOP_FLAGS,
        extra_link_args=["-fopenmp"],
        libraries=["mvec", "m"],
    )
]

setup(
    name="gru_proto",
    ext_modules=cythonize(extensions, compiler_directives={"language_level": 3}),
    cmdclass={"build_ext": BuildExt},
)
