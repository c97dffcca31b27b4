"""embeddings=: pretrained word vectors as a frozen input of the RNN estimators."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skrnn import (
    CharCNN,
    RNNClassifier,
    RNNLanguageModel,
    RNNTagger,
    WordFeatures,
    load,
)
from skrnn.datasets import WordVectors
from skrnn.metrics import flat_accuracy_scorer

DIM = 4


def _vectors():
    """Polarity words: "good*" along +e0, "bad*" along -e0, fillers elsewhere."""
    rng = np.random.default_rng(0)
    words = [f"good{i}" for i in range(40)] + [f"bad{i}" for i in range(40)]
    words += ["the", "film", "was"]
    table = 0.3 * rng.standard_normal((len(words), DIM)).astype(np.float32)
    table[:40, 0] += 3.0
    table[40:80, 0] -= 3.0
    return words, table


def _sentiment(n=120, seed=0):
    """Each text holds one polarity word of the first 20 of each kind."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        label = rng.integers(2)
        word = f"{'good' if label else 'bad'}{rng.integers(20)}"
        X.append(["the", "film", "was", word])
        y.append(["neg", "pos"][label])
    return X, y


def _classifier(embeddings, **params):
    defaults = dict(
        hidden_size=8,
        embedding_dim=8,
        max_iter=15,
        early_stopping=False,
        ngram_range=None,
        learning_rate=0.02,
        random_state=0,
    )
    return RNNClassifier(embeddings=embeddings, **{**defaults, **params})


@pytest.fixture(scope="module")
def fitted():
    words, table = _vectors()
    return _classifier((words, table)).fit(*_sentiment())


def test_unseen_word_with_a_vector_is_read_through_it(fitted):
    # good20..39 and bad20..39 never occur in training: only their vectors tell
    # them apart, and an unknown word has none
    X_new = [["the", "film", "was", f"good{i}"] for i in range(20, 40)]
    X_new += [["the", "film", "was", f"bad{i}"] for i in range(20, 40)]
    assert fitted.score(X_new, ["pos"] * 20 + ["neg"] * 20) >= 0.95
    unknown = fitted.predict_proba([["the", "film", "was", "zzz"]])
    seen_only_in_vectors = fitted.predict_proba([["the", "film", "was", "good30"]])
    assert abs(unknown[0, 1] - seen_only_in_vectors[0, 1]) > 0.2


def test_without_vectors_unseen_words_are_unknown():
    clf = _classifier(None).fit(*_sentiment())
    X_new = [["the", "film", "was", f"good{i}"] for i in range(20, 40)]
    proba = clf.predict_proba(X_new)
    assert np.allclose(proba, proba[0])  # all of them are <unk>


def test_lookup_falls_back_to_lowercase(fitted):
    upper = fitted.predict_proba([["The", "FILM", "was", "GOOD30"]])
    lower = fitted.predict_proba([["the", "film", "was", "good30"]])
    # the word stream lowercases too (lowercase=True), so only the vectors
    # could differ: they must not
    np.testing.assert_allclose(upper, lower)


def test_coverage_and_fitted_vectors(fitted):
    assert fitted.embedding_coverage_ == 1.0
    words, table = _vectors()
    assert isinstance(fitted.word_vectors_, WordVectors)
    np.testing.assert_array_equal(fitted.word_vectors_.vectors, table)
    X, y = _sentiment()
    X[0] = ["the", "film", "was", "unheard", "of"]
    clf = clone(fitted).set_params(max_iter=1).fit(X, y)
    n_tokens = sum(map(len, X))
    assert clf.embedding_coverage_ == pytest.approx((n_tokens - 2) / n_tokens)


def test_frozen_vectors_and_the_callers_data_are_unchanged():
    words, table = _vectors()
    before = table.copy()
    clf = _classifier((words, table)).fit(*_sentiment())
    np.testing.assert_array_equal(table, before)
    assert table.flags.writeable  # the caller's array keeps its flags
    np.testing.assert_array_equal(clf.word_vectors_.vectors, before)
    assert not any(name.startswith("pretrained") for name in clf.params_)


class _KeyedVectorsLike:
    """What gensim's KeyedVectors offers: key_to_index and vectors."""

    def __init__(self, words, table):
        self.key_to_index = {w: i for i, w in enumerate(words)}
        self.vectors = table


def test_every_source_of_the_same_vectors_gives_the_same_model(fitted):
    words, table = _vectors()
    sources = [
        dict(zip(words, table, strict=True)),
        WordVectors(words, table),
        _KeyedVectorsLike(words, table),
    ]
    expected = fitted.predict_proba([["the", "film", "was", "good33"]])
    for source in sources:
        clf = clone(fitted).set_params(embeddings=source).fit(*_sentiment())
        for name, value in fitted.params_.items():
            np.testing.assert_array_equal(clf.params_[name], value)
        np.testing.assert_array_equal(
            clf.predict_proba([["the", "film", "was", "good33"]]), expected
        )


def test_a_path_is_read_at_fit(tmp_path, fitted):
    words, table = _vectors()
    path = tmp_path / "vectors.txt"
    path.write_text(
        "".join(
            f"{w} {' '.join(repr(float(v)) for v in row)}\n"
            for w, row in zip(words, table, strict=True)
        )
    )
    clf = clone(fitted).set_params(embeddings=str(path))
    assert clf.embeddings == str(path)  # nothing is read before fit
    clf.fit(*_sentiment())
    np.testing.assert_array_equal(clf.word_vectors_.vectors, table)
    for name, value in fitted.params_.items():
        np.testing.assert_array_equal(clf.params_[name], value)


def test_language_model_source_is_its_input_table():
    X, y = _sentiment()
    lm = RNNLanguageModel(
        hidden_size=8, embedding_dim=6, max_iter=1, random_state=0
    ).fit(X)
    clf = _classifier(lm, max_iter=2).fit(X, y)
    assert clf.word_vectors_.dim == 6
    row = clf.word_vectors_.index["film"]
    np.testing.assert_array_equal(
        clf.word_vectors_.vectors[row], lm.params_["embed.0"][lm.vocabulary_["film"]]
    )
    assert "<unk>" not in clf.word_vectors_.index
    # an LM passed directly is the same model as its table passed as a pair
    pair = (clf.word_vectors_.tokens, clf.word_vectors_.vectors)
    same = _classifier(pair, max_iter=2).fit(X, y)
    for name, value in clf.params_.items():
        np.testing.assert_array_equal(same.params_[name], value)


def test_clone_and_grid_search_share_the_table():
    words, table = _vectors()
    vectors = WordVectors(words, table)
    clf = _classifier(vectors, max_iter=2)
    assert clone(clf).embeddings is vectors
    X, y = _sentiment()
    search = GridSearchCV(clf, {"hidden_size": [4, 8]}, cv=2).fit(X, y)
    assert search.best_estimator_.word_vectors_ is vectors
    # a fitted language model stays fitted in every clone
    lm = RNNLanguageModel(hidden_size=8, embedding_dim=6, max_iter=1).fit(X)
    assert hasattr(clone(_classifier(lm)).embeddings, "params_")


def test_numeric_input_with_embeddings_is_an_error():
    words, table = _vectors()
    X = np.random.default_rng(0).standard_normal((20, 5))
    y = [0, 1] * 10
    with pytest.raises(ValueError, match="numeric sequences"):
        _classifier((words, table)).fit(X, y)


def test_refit_without_embeddings_forgets_the_vectors(fitted):
    clf = clone(fitted).fit(*_sentiment())
    clf.set_params(embeddings=None).fit(*_sentiment())
    assert not hasattr(clf, "word_vectors_")
    assert not hasattr(clf, "embedding_coverage_")


def test_model_file_round_trip(tmp_path, fitted):
    path = tmp_path / "clf.skrnn"
    fitted.save(path)
    loaded = load(path)
    X_new = [["the", "film", "was", f"good{i}"] for i in range(20, 40)]
    np.testing.assert_array_equal(
        loaded.predict_proba(X_new), fitted.predict_proba(X_new)
    )
    np.testing.assert_array_equal(
        loaded.word_vectors_.vectors, fitted.word_vectors_.vectors
    )
    # the (tokens, matrix) pair it was given is saved once, as the fit read it
    assert loaded.embeddings is loaded.word_vectors_ or np.shares_memory(
        loaded.embeddings.vectors, loaded.word_vectors_.vectors
    )


def _tagging(n=80, seed=0):
    """The tag of the last word is its polarity; the others are fillers."""
    X, y = _sentiment(n, seed)
    return X, [["D", "N", "V", label.upper()] for label in y]


def test_tagger_reads_unseen_words_through_their_vectors(tmp_path):
    words, table = _vectors()
    tagger = RNNTagger(
        embeddings=WordVectors(words, table),
        hidden_size=8,
        embedding_dim=8,
        word_features=WordFeatures(embedding_dim=4),
        max_iter=20,
        random_state=0,
    ).fit(*_tagging())
    X_new = [["the", "film", "was", f"good{i}"] for i in range(20, 40)]
    X_new += [["the", "film", "was", f"bad{i}"] for i in range(20, 40)]
    y_new = [["D", "N", "V", "POS"]] * 20 + [["D", "N", "V", "NEG"]] * 20
    assert flat_accuracy_scorer(tagger, X_new, y_new) >= 0.95
    tagger.save(tmp_path / "tagger.skrnn")
    loaded = load(tmp_path / "tagger.skrnn")
    np.testing.assert_array_equal(
        np.concatenate(loaded.predict_proba(X_new)),
        np.concatenate(tagger.predict_proba(X_new)),
    )


def test_word_rows_start_from_their_vectors():
    words, table = _vectors()
    # a step too small to move anything: the fitted rows are the initial ones
    clf = _classifier((words, table), max_iter=1, learning_rate=1e-12).fit(
        *_sentiment()
    )
    start = clf.params_["embed.0"]
    scale = 1 / np.linalg.norm(table, axis=1).mean()
    for word in ("good3", "bad7", "film"):
        row = start[clf.vocabulary_[word]]
        vector = scale * table[words.index(word)]
        np.testing.assert_allclose(row[:DIM], vector, rtol=1e-5)
        np.testing.assert_allclose(row[DIM:], 0, atol=1e-9)  # embedding_dim 8 > DIM
    # a narrower table takes the first coordinates
    narrow = _classifier(
        (words, table), max_iter=1, learning_rate=1e-12, embedding_dim=2
    ).fit(*_sentiment())
    row = narrow.params_["embed.0"][narrow.vocabulary_["good3"]]
    np.testing.assert_allclose(row, scale * table[words.index("good3"), :2], rtol=1e-5)


def test_language_model_rows_start_from_the_vectors(tmp_path):
    words, table = _vectors()
    X, _ = _sentiment()
    lm = RNNLanguageModel(
        embeddings=dict(zip(words, table, strict=True)),
        hidden_size=8,
        embedding_dim=6,
        max_iter=1,
        learning_rate=1e-12,
        random_state=0,
    ).fit(X)
    scale = 1 / np.linalg.norm(table, axis=1).mean()
    row = lm.params_["embed.0"][lm.vocabulary_["good3"]]
    vector = scale * table[words.index("good3")]
    np.testing.assert_allclose(row[:DIM], vector, rtol=1e-4)
    np.testing.assert_allclose(row[DIM:], 0, atol=1e-9)
    assert lm.embedding_coverage_ == 1.0
    assert not hasattr(lm, "word_vectors_")  # no copy kept
    unseeded = clone(lm).set_params(embeddings=None).fit(X)
    assert not np.allclose(unseeded.params_["embed.0"], lm.params_["embed.0"])
    lm.save(tmp_path / "lm.skrnn")
    loaded = load(tmp_path / "lm.skrnn")
    assert loaded.embeddings is None
    assert loaded.perplexity(X) == lm.perplexity(X)


@pytest.mark.parametrize("estimator", ["tagger", "classifier"])
def test_gradients_through_every_stream_with_the_pretrained_input(estimator):
    from test_engine import _check_gradients

    words, table = _vectors()
    if estimator == "tagger":
        X, y = _tagging(20)
        model = RNNTagger(
            embeddings=(words, table),
            hidden_size=3,
            embedding_dim=3,
            word_features=WordFeatures(embedding_dim=2),
            char_encoder=CharCNN(filters=3),
            max_iter=1,
            random_state=0,
        )
    else:
        X, y = _sentiment(20)
        model = _classifier(
            (words, table),
            hidden_size=3,
            embedding_dim=3,
            ngram_range=(1, 2),
            max_iter=1,
        )
    model.fit(X, y)
    X[0] = X[0][:-1] + ["good30"]  # a word with a vector and no trained row
    encoded = model._encode_fit(X, y, reset=False)
    net = model._network(np.float64)
    params = {k: v.astype(np.float64) for k, v in model.params_.items()}
    batch = encoded.batch(np.arange(4))
    assert batch.features.shape[-1] == DIM
    _check_gradients(net, params, batch, np.random.default_rng(0))
