"""Build the engine's compiled kernels (skrnn/_engine/_kernels): the time loops
of the recurrent cells and the per-step parameter updates.

Everything else about the package is in pyproject.toml; this file only adds the
extensions, which setuptools cannot describe declaratively because each cell's
gate helper needs flags of its own:
- ``<cell>.pyx`` (Cython: the time loops): ``-O3``;
- ``_blas.pyx`` (the class softmax's BLAS products: NumPy's CBLAS when found
  at run time, ``scipy.linalg.cython_blas`` otherwise): ``-O3``;
- ``<cell>_gates.c`` (the gate arithmetic of a step): ``-O3 -fno-math-errno
  -fopenmp-simd``, so that gcc vectorises it and calls glibc's vector exp
  (libmvec, linked with ``-lmvec``; ``simd.h``); compiled first and linked as
  an object;
- ``panel_product.c`` (the recurrent product of a step, against weights
  packed once per loop): ``-O3``, compiled first and linked as an object into
  each cell's extension and into ``products.pyx`` (whole matrices through the
  same product, for predictions whose rows must not depend on one another);
- ``class_softmax.pyx`` (the word half of the language model's class
  softmax): ``-O3 -fno-math-errno``;
- ``dropout_mask.c`` (inverted dropout, its mask drawn by an integer hash):
  ``-O3 -fopenmp-simd``, compiled first and linked into ``dropout.pyx``;
- ``updates.pyx`` (Adam's step and the weight average): ``-O3
  -fno-math-errno -ffp-contract=off``, so that its loops vectorise (sqrt
  without errno) and round as NumPy does (no fused multiply-add).
No ``-march=native``: the gate helpers carry per-CPU clones (target_clones),
so a wheel built here runs on any x86-64.

No OpenMP runtime: the loops release the GIL and the engine's own threads run
them (``skrnn/_engine/compiled_cells.py``).

The extensions are optional: where they cannot be built (no C compiler),
``pip install`` still succeeds and the engine runs its NumPy cells,
which are the reference anyway (``skrnn._engine.compiled_cells``).
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNELS = "skrnn/_engine/_kernels"
# named as the engine names the cells (cells.CELLS): "rnn" is the Elman cell
CELLS = ["gru", "lstm", "rnn"]
GATE_FLAGS = ["-O3", "-fno-math-errno", "-fopenmp-simd"]
LOOP_FLAGS = ["-O3"]
PRODUCT_FLAGS = ["-O3"]
UPDATE_FLAGS = ["-O3", "-fno-math-errno", "-ffp-contract=off"]
DROPOUT_FLAGS = ["-O3", "-fopenmp-simd"]
GLIBC = sys.platform.startswith("linux")
# the C sources compiled on their own and linked into each extension that uses
# the loops' product
_PRODUCT = (f"{KERNELS}/panel_product.c", PRODUCT_FLAGS)
LINKED_SOURCES = {
    **{cell: [(f"{KERNELS}/{cell}_gates.c", GATE_FLAGS), _PRODUCT] for cell in CELLS},
    "products": [_PRODUCT],
    "dropout": [(f"{KERNELS}/dropout_mask.c", DROPOUT_FLAGS)],
}


class BuildExt(build_ext):
    """Compile each cell's gate helper and the loops' product with their own
    flags, then the extension itself."""

    def build_extension(self, ext):
        name = ext.name.rsplit(".", 1)[1]
        if name not in LINKED_SOURCES:
            super().build_extension(ext)
            return
        objects = [
            self.compiler.compile(
                [source],
                output_dir=self.build_temp,
                include_dirs=[KERNELS],
                extra_postargs=flags,
                depends=ext.depends,
            )
            for source, flags in LINKED_SOURCES[name]
        ]
        ext.extra_objects = list(ext.extra_objects) + sum(objects, [])
        super().build_extension(ext)


def _linked_extension(name, depends=(), libraries=()):
    """Extension ``name`` (``<name>.pyx``), linked with its C sources of
    ``LINKED_SOURCES`` (``BuildExt``)."""
    return Extension(
        f"skrnn._engine._kernels.{name}",
        sources=[f"{KERNELS}/{name}.pyx"],
        depends=[*depends, f"{KERNELS}/simd.h", f"{KERNELS}/_common.pxd"],
        include_dirs=[KERNELS],
        extra_compile_args=LOOP_FLAGS,
        libraries=list(libraries),
        optional=True,
    )


def _product_extension(name, depends=(), libraries=()):
    """Extension ``name``, linked with the loops' product (``BuildExt``)."""
    return _linked_extension(
        name,
        [*depends, f"{KERNELS}/panel_product.h", f"{KERNELS}/_panel_product.pxd"],
        libraries,
    )


def _cell_extension(cell):
    return _product_extension(
        cell, [f"{KERNELS}/{cell}_gates.h"], ["mvec", "m"] if GLIBC else []
    )


setup(
    ext_modules=cythonize(
        [
            Extension(
                "skrnn._engine._kernels._blas",
                sources=[f"{KERNELS}/_blas.pyx"],
                depends=[f"{KERNELS}/_blas.pxd"],
                extra_compile_args=LOOP_FLAGS,
                optional=True,
            )
        ]
        + [_cell_extension(cell) for cell in CELLS]
        + [
            _product_extension("products"),
            Extension(
                "skrnn._engine._kernels.class_softmax",
                sources=[f"{KERNELS}/class_softmax.pyx"],
                depends=[f"{KERNELS}/_common.pxd", f"{KERNELS}/_blas.pxd"],
                extra_compile_args=LOOP_FLAGS + ["-fno-math-errno"],
                libraries=["m"] if GLIBC else [],
                optional=True,
            ),
            _linked_extension("dropout", [f"{KERNELS}/dropout_mask.h"]),
            Extension(
                "skrnn._engine._kernels.updates",
                sources=[f"{KERNELS}/updates.pyx"],
                depends=[f"{KERNELS}/_common.pxd"],
                extra_compile_args=UPDATE_FLAGS,
                libraries=["m"] if GLIBC else [],
                optional=True,
            )
        ],
        compiler_directives={"language_level": 3},
    ),
    cmdclass={"build_ext": BuildExt},
)
