"""Grid searches on a Dask cluster through joblib give the results of a local run.

Starts a real two-process LocalCluster; needs the ``dask`` extra.
"""

import logging
import re

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from skrnn import HMMTagger, RNNTagger, WordFeatures
from skrnn.datasets import make_tagging
from skrnn.metrics import flat_accuracy_scorer

distributed = pytest.importorskip(
    "distributed", reason="needs the dask extra: pip install 'skrnn[dask]'"
)
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        # Loopback only, on free ports: other runs of this test may share the machine.
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _search(estimator, grid, X, y, **parallel):
    search = GridSearchCV(
        estimator,
        grid,
        scoring=flat_accuracy_scorer,
        cv=KFold(2, shuffle=True, random_state=0),
        n_jobs=-1 if parallel else 1,
        refit=False,
    )
    if not parallel:
        return search.fit(X, y)
    with joblib.parallel_config(**parallel):
        return search.fit(X, y)


def _assert_same_search(remote, local):
    assert remote.best_params_ == local.best_params_
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        # Same seeds, one BLAS thread everywhere: the same arithmetic.
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])


def _ran_on_cluster(client, search):
    with distributed.get_task_stream(client) as tasks:
        result = search()
    workers = {t["worker"] for t in tasks.data}
    # joblib batches short calls ("batch_of__fit_and_score_2_calls-..."): count
    # the fits the tasks carried.
    batch = re.compile(r"(?:mixed_)?batch_of__fit_and_score_(\d+)_calls")
    matches = (batch.match(str(t["key"])) for t in tasks.data)
    n_fits = sum(int(m.group(1)) for m in matches if m)
    return result, n_fits, workers


def test_rnn_tagger_grid_search_on_dask_matches_local_run(client):
    X, y = make_tagging(n_sequences=32, max_length=8, random_state=0)
    tagger = RNNTagger(
        embedding_dim=8,
        word_features=WordFeatures(embedding_dim=4),
        num_layers=1,
        max_iter=1,
        early_stopping=False,
        random_state=0,
    )
    # With hidden_size=64 some products are big enough for the engine to split
    # across threads, as many as BLAS may use: the cores in this process, one in a
    # Dask worker (its nanny sets OPENBLAS_NUM_THREADS=1). Results must not change.
    grid = {"cell": ["gru", "rnn"], "hidden_size": [8, 64]}
    local = _search(tagger, grid, X, y)
    remote, n_fits, workers = _ran_on_cluster(
        client,
        lambda: _search(tagger, grid, X, y, backend="dask", scatter=[X, y]),
    )
    # 4 candidates x 2 folds fitted on the workers, both of them used.
    assert n_fits == 8
    assert workers == set(client.scheduler_info()["workers"])
    _assert_same_search(remote, local)
    assert len(set(local.cv_results_["mean_test_score"])) > 1


def test_hmm_tagger_grid_search_on_dask_matches_local_run(client):
    X, y = make_tagging(n_sequences=60, random_state=1)
    grid = {"order": [1, 2], "alpha": [1e-3, 1.0], "suffix_length": [0, 2]}
    local = _search(HMMTagger(), grid, X, y)
    remote, n_fits, _ = _ran_on_cluster(
        client, lambda: _search(HMMTagger(), grid, X, y, backend="dask")
    )
    assert n_fits == 8 * 2
    _assert_same_search(remote, local)
