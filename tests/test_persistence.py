"""Model files: save/load round trips, continued training, refused files, skops."""

import ast
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.pipeline import FunctionTransformer, Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    RobustScaler,
    StandardScaler,
)

import skrnn
from skrnn import (
    CharCNN,
    HMMTagger,
    RNNClassifier,
    RNNLanguageModel,
    RNNTagger,
    Tokenizer,
    VotingTagger,
    WordFeatures,
    load,
    save,
)
from skrnn._persistence import (
    _HEADER,
    FORMAT_VERSION,
    SaveMixin,
    _estimator_classes,
    _helper_classes,
    model_file_class,
)
from skrnn.datasets import WordVectors

SMALL = {"hidden_size": 5, "max_iter": 2, "batch_size": 4, "random_state": 0}

TOKENS = [
    ["The", "dog", "runs", "fast"],
    ["a", "cat", "sleeps"],
    ["Dogs", "run"],
    ["the", "cats", "sleep", "well"],
] * 4
TAGS = [
    ["DET", "NOUN", "VERB", "ADV"],
    ["DET", "NOUN", "VERB"],
    ["NOUN", "VERB"],
    ["DET", "NOUN", "VERB", "ADV"],
] * 4
# Unseen words, an empty sequence, a capitalised known word.
TOKENS_TEST = [["The", "bird", "flies", "quickly"], [], ["Cats", "sleep"]]


def _numeric_list(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(len(s), 3)) for s in TOKENS]


def _round_trip(estimator, tmp_path, name="model.skrnn"):
    path = tmp_path / name
    if hasattr(estimator, "save"):
        estimator.save(path)
    else:  # a Pipeline
        save(estimator, path)
    return load(path)


def _assert_same(a, b):
    """Equal values of equal types, arrays bit for bit (NaN equal to NaN)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            for x, y in zip(a.flat, b.flat, strict=True):
                _assert_same(x, y)
        else:
            np.testing.assert_array_equal(a, b, strict=True)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
        if hasattr(a, "__dict__"):  # History
            _assert_same(vars(a), vars(b))
    elif isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state
    elif hasattr(a, "__dict__"):
        _assert_same(vars(a), vars(b))
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _assert_same_output(a, b):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y, strict=True)
    else:
        np.testing.assert_array_equal(a, b, strict=True)


# ------------------------------------------------------------------ round trips

TAGGER_CASES = [
    (HMMTagger(), "tokens"),
    (HMMTagger(order=2), "tokens"),
    (HMMTagger(), "numeric_list"),
    (HMMTagger(), "numeric_flat"),
    (RNNTagger(**SMALL), "tokens"),
    (
        RNNTagger(**SMALL, cell="lstm", word_features=WordFeatures(suffix_length=0)),
        "tokens",
    ),
    (RNNTagger(**SMALL, char_encoder=CharCNN(filters=4)), "tokens"),
    (RNNTagger(**SMALL), "numeric_list"),
    (RNNTagger(**SMALL), "numeric_flat"),
]


def _tagger_data(form):
    if form == "tokens":
        return TOKENS, TAGS, TOKENS_TEST, {}
    X = _numeric_list()
    X_test = _numeric_list(seed=1)[:3]
    if form == "numeric_list":
        return X, TAGS, X_test, {}
    lengths = [len(x) for x in X]
    flat_tags = np.concatenate(TAGS)
    kw = {"lengths": [len(x) for x in X_test]}
    return np.vstack(X), flat_tags, np.vstack(X_test), {"fit": lengths, **kw}


@pytest.mark.parametrize(("tagger", "form"), TAGGER_CASES)
def test_tagger_predictions_are_identical_after_a_round_trip(tagger, form, tmp_path):
    X, y, X_test, kw = _tagger_data(form)
    fit_kw = {"lengths": kw.pop("fit")} if "fit" in kw else {}
    tagger.fit(X, y, **fit_kw)
    loaded = _round_trip(tagger, tmp_path)
    assert type(loaded) is type(tagger)
    assert loaded.get_params() == tagger.get_params()
    _assert_same(vars(loaded), vars(tagger))
    for method in ("predict", "predict_proba", "predict_log_proba", "score_samples"):
        if hasattr(tagger, method):
            out = getattr(tagger, method)(X_test, **kw)
            _assert_same_output(getattr(loaded, method)(X_test, **kw), out)
    assert loaded.score(X, y, **fit_kw) == tagger.score(X, y, **fit_kw)


@pytest.mark.parametrize(
    ("X", "y"),
    [
        (TOKENS, ["pos", "neg", "pos", "neg"] * 4),
        (TOKENS, np.array([3, 1, 2, 3] * 4)),
        (np.random.default_rng(0).normal(size=(16, 6, 2)), [0, 1] * 8),
        (_numeric_list(), np.array(["a", "bb", "a", "bb"] * 4, dtype=object)),
    ],
    ids=["tokens-str", "tokens-int", "series-3d", "numeric-list-object-labels"],
)
def test_classifier_predictions_are_identical_after_a_round_trip(X, y, tmp_path):
    classifier = RNNClassifier(**SMALL, class_weight={1: 2.0} if 1 in y else None)
    classifier.fit(X, y)
    loaded = _round_trip(classifier, tmp_path)
    _assert_same(vars(loaded), vars(classifier))
    X_test = TOKENS_TEST if isinstance(X, list) and isinstance(X[0], list) else X[:5]
    for method in ("predict", "predict_proba", "predict_log_proba"):
        out = getattr(classifier, method)(X_test)
        _assert_same_output(getattr(loaded, method)(X_test), out)


@pytest.mark.parametrize("softmax", ["full", "class"])
def test_language_model_round_trip(softmax, tmp_path):
    model = RNNLanguageModel(**SMALL, softmax=softmax).fit(TOKENS)
    loaded = _round_trip(model, tmp_path)
    _assert_same(vars(loaded), vars(model))
    X_test = [TOKENS_TEST[0], TOKENS_TEST[2]]
    for method in ("score_samples", "predict_proba", "predict"):
        out = getattr(model, method)(X_test)
        _assert_same_output(getattr(loaded, method)(X_test), out)


def test_language_model_numeric_ids_round_trip(tmp_path):
    ids = np.random.default_rng(0).integers(0, 6, size=(12, 5))
    model = RNNLanguageModel(**SMALL).fit(ids)
    loaded = _round_trip(model, tmp_path)
    _assert_same_output(loaded.score_samples(ids[:3]), model.score_samples(ids[:3]))
    _assert_same_output(loaded.predict_proba(ids[:3]), model.predict_proba(ids[:3]))


def test_tokens_of_any_hashable_type_keep_their_type(tmp_path):
    X = [["a", 1, np.str_("x"), b"raw", 2.5, None]] * 3
    y = [["A", "B", "A", "B", "A", "B"]] * 3
    tagger = HMMTagger().fit(X, y)
    loaded = _round_trip(tagger, tmp_path)
    _assert_same(loaded.vocabulary_, tagger.vocabulary_)
    assert [type(k) for k in loaded.vocabulary_] == [
        str, int, np.str_, bytes, float, type(None)
    ]
    _assert_same_output(loaded.predict_proba(X), tagger.predict_proba(X))


def test_an_unfitted_estimator_round_trips_unfitted(tmp_path):
    tagger = RNNTagger(hidden_size=7, random_state=np.random.RandomState(3))
    loaded = _round_trip(tagger, tmp_path)
    assert loaded.hidden_size == 7
    _assert_same(
        loaded.random_state.get_state(legacy=False),
        tagger.random_state.get_state(legacy=False),
    )
    assert not hasattr(loaded, "params_")


def test_save_writes_the_name_given_and_a_file_object_works(tmp_path):
    tagger = HMMTagger().fit(TOKENS, TAGS)
    tagger.save(tmp_path / "tagger.model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tagger.model"]
    buffer = io.BytesIO()
    tagger.save(buffer)
    buffer.seek(0)
    _assert_same_output(load(buffer).predict(TOKENS), tagger.predict(TOKENS))


def test_the_header_is_readable_json_with_params_and_versions(tmp_path):
    tagger = RNNTagger(**SMALL).fit(TOKENS, TAGS)
    tagger.save(tmp_path / "m")
    with np.load(tmp_path / "m", allow_pickle=False) as archive:
        header = json.loads(archive[_HEADER].tobytes())
        names = set(archive.files)
    assert header["format"] == "skrnn-model"
    assert header["format_version"] == FORMAT_VERSION
    assert header["skrnn_version"] == skrnn.__version__
    body = header["estimator"]["__estimator__"]
    assert body["class"] == "skrnn.RNNTagger"
    assert body["params"]["hidden_size"] == 5
    assert body["params"]["cell"] == "gru"
    # one member per parameter array (and the Adam moments), no pickles
    assert len(names) > len(tagger.params_)


# ------------------------------------------------------------ continued training


@pytest.mark.parametrize(
    "make",
    [
        lambda: RNNTagger(**SMALL, solver="sgd").fit(TOKENS, TAGS),
        lambda: RNNTagger(**SMALL).fit(TOKENS, TAGS),
        lambda: RNNTagger(**SMALL, char_encoder="cnn").fit(TOKENS, TAGS),
        lambda: RNNClassifier(**SMALL).fit(TOKENS, [0, 1, 1, 0] * 4),
        lambda: RNNLanguageModel(**SMALL).fit(TOKENS),
    ],
    ids=["tagger-sgd", "tagger-adam", "tagger-chars", "classifier", "language-model"],
)
def test_a_loaded_model_trains_on_exactly_as_the_original(make, tmp_path):
    original = make()
    loaded = _round_trip(original, tmp_path)
    if isinstance(original, RNNLanguageModel):
        args = (TOKENS,)
    elif isinstance(original, RNNTagger):
        args = (TOKENS, TAGS)
    else:
        args = (TOKENS, [0, 1, 1, 0] * 4)
    for model in (original, loaded):
        model.set_params(warm_start=True, max_iter=1).fit(*args)
    assert loaded.n_iter_ == original.n_iter_ == 3
    _assert_same(loaded.params_, original.params_)
    _assert_same(loaded._optimizer, original._optimizer)
    if hasattr(original, "partial_fit"):
        original.partial_fit(*args)
        loaded.partial_fit(*args)
        _assert_same(loaded.params_, original.params_)


# ------------------------------------------------------------------ pipelines


def test_pipelines_of_skrnn_steps_and_scalers_round_trip(tmp_path):
    texts = [" ".join(s) for s in TOKENS]
    text_pipe = make_pipeline(Tokenizer(), RNNClassifier(**SMALL))
    text_pipe.fit(texts, [0, 1, 1, 0] * 4)
    save(text_pipe, tmp_path / "text")
    loaded = load(tmp_path / "text")
    assert [name for name, _ in loaded.steps] == ["tokenizer", "rnnclassifier"]
    _assert_same_output(loaded.predict_proba(texts), text_pipe.predict_proba(texts))

    series = np.random.default_rng(1).normal(3, 2, size=(16, 7))
    series_pipe = make_pipeline(StandardScaler(), RNNClassifier(**SMALL))
    series_pipe.fit(series, [0, 1] * 8)
    save(series_pipe, tmp_path / "series")
    loaded = load(tmp_path / "series")
    _assert_same(vars(loaded[0]), vars(series_pipe[0]))
    _assert_same_output(loaded.predict_proba(series), series_pipe.predict_proba(series))


def test_what_cannot_be_stored_is_named(tmp_path):
    pipe = make_pipeline(FunctionTransformer(np.abs), RNNClassifier(**SMALL))
    with pytest.raises(TypeError, match="FunctionTransformer"):
        save(pipe, tmp_path / "m")
    with pytest.raises(TypeError, match="expects an skrnn estimator"):
        save({"a": 1}, tmp_path / "m")
    tagger = HMMTagger().fit(TOKENS, TAGS)
    tagger.extra_ = lambda: None
    with pytest.raises(TypeError, match=r"HMMTagger\.extra_: a builtins\.function"):
        tagger.save(tmp_path / "m")
    assert not list(tmp_path.iterdir())  # no partial file left behind


# ------------------------------------------------------------ refused files


def _model_bytes():
    buffer = io.BytesIO()
    HMMTagger().fit(TOKENS, TAGS).save(buffer)
    return buffer.getvalue()


def _with_header(edit):
    """A valid model file whose header JSON was changed by ``edit``."""
    with np.load(io.BytesIO(_model_bytes()), allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    header = json.loads(members[_HEADER].tobytes())
    edit(header)
    members[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def _load_bytes(data, tmp_path):
    path = tmp_path / "suspect.skrnn"
    path.write_bytes(data)
    return load(path)


class _Boom:
    def __reduce__(self):
        return (pytest.fail, ("a pickle in a model file was executed",))


def test_a_pickle_is_refused_without_being_unpickled(tmp_path):
    for protocol in (0, 2, 5):
        data = pickle.dumps(_Boom(), protocol=protocol)
        with pytest.raises(ValueError, match="never unpickles"):
            _load_bytes(data, tmp_path)


def test_an_object_array_inside_the_archive_is_refused(tmp_path):
    with np.load(io.BytesIO(_model_bytes()), allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    members["a0"] = np.array([_Boom()], dtype=object)  # replaces a real array
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    with pytest.raises(ValueError, match="object array, that is pickled data"):
        _load_bytes(buffer.getvalue(), tmp_path)


def _exploit_class(header):
    header["estimator"]["__estimator__"]["class"] = "os.system"


def _exploit_helper(header):
    state = header["estimator"]["__estimator__"]["state"]
    state["_lexicon"]["suffixes"]["__object__"]["class"] = "builtins.eval"


def _hide_method(header):
    header["estimator"]["__estimator__"]["state"]["predict"] = "not a method"


def _unknown_tag(header):
    header["estimator"]["__estimator__"]["state"]["x_"] = {"__reduce__": ["os"]}


def _unknown_param(header):
    header["estimator"]["__estimator__"]["params"]["evil"] = 1


def _missing_array(header):
    header["estimator"]["__estimator__"]["state"]["x_"] = {"__array__": "a999"}


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (_exploit_class, "class 'os.system', which is not one of the classes"),
        (_exploit_helper, "class 'builtins.eval', which is not one of the classes"),
        (_hide_method, "attribute 'predict' of HMMTagger would hide its method"),
        (_unknown_tag, "unknown entry '__reduce__'"),
        (_unknown_param, r"HMMTagger has no parameters \['evil'\]"),
        (_missing_array, "the array 'a999' is missing"),
        (lambda h: h.update(estimator=[1, 2]), r"model file \(no estimator\)"),
    ],
)
def test_a_tampered_header_is_refused(edit, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        _load_bytes(_with_header(edit), tmp_path)


def test_a_newer_format_version_is_refused(tmp_path):
    data = _with_header(lambda h: h.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1}, newer"):
        _load_bytes(data, tmp_path)


def test_another_skrnn_version_warns(tmp_path):
    data = _with_header(lambda h: h.update(skrnn_version="0.0.1"))
    with pytest.warns(UserWarning, match="saved with skrnn 0.0.1"):
        loaded = _load_bytes(data, tmp_path)
    assert isinstance(loaded, HMMTagger)


def test_files_of_other_kinds_are_refused(tmp_path):
    npy = io.BytesIO()
    np.save(npy, np.arange(3))
    npz = io.BytesIO()
    np.savez(npz, weights=np.arange(3))
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hello")
    not_model = _with_header(lambda h: h.update(format="something-else"))
    cases = [
        (b"", "is empty"),
        (b"hello, world\n", "is not a zip archive"),
        (npy.getvalue(), "is a single .npy array"),
        (npz.getvalue(), "not an skrnn model file"),
        (other_zip.getvalue(), "not an .npy array"),
        (not_model, "not an skrnn model file"),
    ]
    for data, match in cases:
        with pytest.raises(ValueError, match=match):
            _load_bytes(data, tmp_path)


def test_truncated_or_corrupted_files_are_refused(tmp_path):
    data = _model_bytes()
    with pytest.raises(ValueError, match="truncated or corrupted"):
        _load_bytes(data[: len(data) // 2], tmp_path)
    # A flipped byte inside the compressed data: zlib or the CRC catches it.
    middle = len(data) // 3
    corrupted = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
    with pytest.raises(ValueError, match="truncated or corrupted"):
        _load_bytes(corrupted, tmp_path)


def test_a_flipped_byte_anywhere_is_refused_or_harmless(tmp_path):
    """Every damaged byte gives a ValueError, or (zip fields that nothing reads,
    such as timestamps) a model that predicts exactly as the original."""
    data = _model_bytes()
    expected = HMMTagger().fit(TOKENS, TAGS).predict_proba(TOKENS_TEST)
    outcomes = set()
    for i in range(0, len(data), 5):
        damaged = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        try:
            model = load(io.BytesIO(damaged))
        except ValueError:
            outcomes.add("refused")
            continue
        _assert_same_output(model.predict_proba(TOKENS_TEST), expected)
        outcomes.add("harmless")
    assert "refused" in outcomes


# ------------------------------------------------------------------ skops


@pytest.mark.parametrize(
    "make",
    [
        lambda: HMMTagger().fit(TOKENS, TAGS),
        lambda: RNNTagger(**SMALL).fit(TOKENS, TAGS),
        lambda: RNNTagger(**SMALL, char_encoder="cnn").fit(TOKENS, TAGS),
        lambda: RNNClassifier(**SMALL).fit(TOKENS, [0, 1, 1, 0] * 4),
        lambda: RNNLanguageModel(**SMALL).fit(TOKENS),
        lambda: VotingTagger(
            [("hmm", HMMTagger()), ("rnn", RNNTagger(**SMALL))]
        ).fit(TOKENS, TAGS),
    ],
    ids=["hmm", "tagger", "tagger-chars", "classifier", "language-model", "vote"],
)
def test_skops_stores_skrnn_models_with_only_skrnn_types_to_trust(make, tmp_path):
    sio = pytest.importorskip("skops.io", reason="the skops extra is not installed")
    model = make()
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and all(name.startswith("skrnn.") for name in untrusted)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_output(loaded.predict_proba(TOKENS_TEST[2:]),
                        model.predict_proba(TOKENS_TEST[2:]))


# ------------------------------------------------------------------ registry

SKRNN = Path(skrnn.__file__).parent

# Renaming a registered class would make the files written before unreadable, so
# the names are listed here on purpose: adding, renaming or removing a class
# shows in this test.
REGISTERED_ESTIMATORS = {
    "skrnn.HMMTagger",
    "skrnn.RNNClassifier",
    "skrnn.RNNLanguageModel",
    "skrnn.RNNTagger",
    "skrnn.Tokenizer",
    "skrnn.VotingTagger",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing.MaxAbsScaler",
    "sklearn.preprocessing.MinMaxScaler",
    "sklearn.preprocessing.Normalizer",
    "sklearn.preprocessing.RobustScaler",
    "sklearn.preprocessing.StandardScaler",
}
REGISTERED_HELPERS = {
    "skrnn._base.History",
    "skrnn._vocabulary.TokenFeaturizer",
    "skrnn._vocabulary.Vocabulary",
    "skrnn._engine.optimizers.Adam",
    "skrnn._engine.optimizers.SGD",
    "skrnn._hmm_lexicon.SuffixModel",
    "skrnn._spelling.CharCNN",
    "skrnn._spelling.Spelling",
    "skrnn._vocabulary.WordFeatures",
    "skrnn._word_vectors.WordVectors",
}


def test_the_registry_holds_exactly_the_expected_names():
    estimators, helpers = _estimator_classes(), _helper_classes()
    assert set(estimators) == REGISTERED_ESTIMATORS
    assert set(helpers) == REGISTERED_HELPERS
    for name, cls in estimators.items():
        package, _, class_name = name.rpartition(".")
        if package == "skrnn":  # the class skrnn exports under that name
            assert getattr(skrnn, class_name) is cls
            assert class_name in skrnn.__all__
    for name, cls in helpers.items():
        assert name == f"{cls.__module__}.{cls.__qualname__}"
    # every class skrnn exports is registered: the estimators, and the
    # settings objects of their parameters
    exported = {getattr(skrnn, n) for n in skrnn.__all__}
    exported = {c for c in exported if isinstance(c, type)}
    settings = {skrnn.CharCNN, skrnn.WordFeatures}
    assert exported - set(estimators.values()) == settings
    assert settings <= set(helpers.values())


def _every_registered_class(tmp_path_factory):
    """A fitted model of each registered estimator, together holding an object
    of each registered helper class, each with its round-tripped copy."""
    texts = [" ".join(s) for s in TOKENS]
    series = np.random.default_rng(2).normal(3, 2, size=(16, 5))
    vectors = WordVectors(["the", "cat", "dog"], series[:3, :4])
    models = {
        "HMMTagger": HMMTagger().fit(TOKENS, TAGS),
        # a char_encoder holds a Spelling (and is a CharCNN), solver="sgd" an
        # SGD; word_features is a WordFeatures
        "RNNTagger": RNNTagger(
            **SMALL,
            char_encoder=CharCNN(filters=8),
            word_features=WordFeatures(suffix_length=2),
            solver="sgd",
        ).fit(TOKENS, TAGS),
        # embeddings= holds WordVectors
        "RNNClassifier": RNNClassifier(**SMALL, embeddings=vectors).fit(
            TOKENS, [0, 1, 1, 0] * 4
        ),
        "RNNLanguageModel": RNNLanguageModel(**SMALL).fit(TOKENS),
        "VotingTagger": VotingTagger(
            [("hmm", HMMTagger()), ("rnn", RNNTagger(**SMALL))]
        ).fit(TOKENS, TAGS),
        "Tokenizer": Tokenizer(lowercase=False).fit(texts),
        "Pipeline": make_pipeline(Tokenizer(), RNNClassifier(**SMALL)).fit(
            texts, [0, 1, 1, 0] * 4
        ),
        "scalers": make_pipeline(
            StandardScaler(),
            MinMaxScaler(),
            MaxAbsScaler(),
            RobustScaler(),
            Normalizer(),
        ).fit(series),
    }
    directory = tmp_path_factory.mktemp("every-class")
    return {
        key: (model, _round_trip(model, directory, f"{key}.skrnn"), directory)
        for key, model in models.items()
    }


@pytest.fixture(scope="module")
def every_registered_class(tmp_path_factory):
    return _every_registered_class(tmp_path_factory)


def _classes_inside(value, found):
    found.add(type(value))
    if isinstance(value, np.ndarray) and value.dtype == object:
        items = list(value.flat)
    elif isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = []
    if hasattr(value, "__dict__") and not isinstance(value, type):
        items += list(vars(value).values())
    for item in items:
        _classes_inside(item, found)
    return found


@pytest.mark.parametrize(
    "key",
    [
        "HMMTagger",
        "RNNTagger",
        "RNNClassifier",
        "RNNLanguageModel",
        "VotingTagger",
        "Tokenizer",
        "Pipeline",
        "scalers",
    ],
)
def test_each_registered_estimator_round_trips(key, every_registered_class):
    model, loaded, _ = every_registered_class[key]
    assert type(loaded) is type(model)
    _assert_same(vars(loaded), vars(model))
    if isinstance(model, RNNLanguageModel):
        X = [TOKENS_TEST[0], TOKENS_TEST[2]]
        _assert_same_output(loaded.score_samples(X), model.score_samples(X))
    elif key == "scalers":
        X = np.random.default_rng(5).normal(size=(4, 5))
        _assert_same_output(loaded.transform(X), model.transform(X))
    elif isinstance(model, Tokenizer):
        assert loaded.transform(["The Cat, sleeps"]) == [["The", "Cat", ",", "sleeps"]]
    elif key == "Pipeline":
        X = ["the bird flies", "a cat"]
        _assert_same_output(loaded.predict_proba(X), model.predict_proba(X))
    else:
        X = TOKENS_TEST[2:]
        _assert_same_output(loaded.predict_proba(X), model.predict_proba(X))


def test_every_registered_class_is_round_tripped(every_registered_class):
    """The round trips above build an object of every registered class."""
    found = set()
    for _, loaded, _ in every_registered_class.values():
        _classes_inside(loaded, found)
    registered = {*_estimator_classes().values(), *_helper_classes().values()}
    assert registered <= found, registered - found


@pytest.mark.parametrize(
    "imports",
    ["import skrnn; load = skrnn.load", "from skrnn import load"],
)
def test_a_fresh_interpreter_loads_every_class_after_importing_skrnn(
    imports, every_registered_class
):
    """Nothing but importing skrnn is needed for the registry to be complete."""
    directory = next(iter(every_registered_class.values()))[2]
    code = (
        f"import sys; {imports}\n"
        "for path in sys.argv[1:]:\n"
        "    print(type(load(path)).__name__)\n"
    )
    paths = [str(directory / f"{key}.skrnn") for key in every_registered_class]
    done = subprocess.run(
        [sys.executable, "-c", code, *paths],
        capture_output=True,
        text=True,
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(SKRNN.parent)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = [type(model).__name__ for model, _, _ in every_registered_class.values()]
    assert done.stdout.split() == expected


def _with_class(name, where="estimator"):
    def edit(header):
        body = header["estimator"]["__estimator__"]
        if where == "estimator":
            body["class"] = name
        else:
            body["state"]["_lexicon"]["suffixes"]["__object__"]["class"] = name

    return edit


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("skrnn.NotAnEstimator", "estimator"),
        ("skrnn.BaseRNN", "estimator"),  # an skrnn class, but no SaveMixin
        ("skrnn._validation.Sequences", "helper"),  # an skrnn class, not registered
        ("skrnn._vocabulary.Vocabulary", "estimator"),  # a helper is no estimator
        ("skrnn._data.Vocabulary", "estimator"),  # nor is a helper's former name
        ("skrnn.HMMTagger", "helper"),  # nor an estimator a helper
    ],
)
def test_a_class_that_is_not_registered_is_refused(name, where, tmp_path):
    data = _with_header(_with_class(name, where))
    with pytest.raises(ValueError, match=f"class '{name}', which is not one of"):
        _load_bytes(data, tmp_path)


def test_a_file_naming_a_helper_by_its_former_module_loads(tmp_path):
    """Vocabulary and TokenFeaturizer moved from skrnn._data to
    skrnn._vocabulary: files written before the move name them by the old
    module, and still load; a new file names the new one."""
    model = RNNTagger(**SMALL).fit(TOKENS, TAGS)
    buffer = io.BytesIO()
    model.save(buffer)
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    text = members[_HEADER].tobytes().decode()
    assert text.count("skrnn._vocabulary.") >= 2 and "skrnn._data." not in text
    old = text.replace("skrnn._vocabulary.", "skrnn._data.")
    members[_HEADER] = np.frombuffer(old.encode(), dtype=np.uint8)
    written = io.BytesIO()
    np.savez(written, **members)
    loaded = _load_bytes(written.getvalue(), tmp_path)
    assert type(loaded.featurizer_).__module__ == "skrnn._vocabulary"
    _assert_same_output(loaded.predict_proba(TOKENS), model.predict_proba(TOKENS))
    with pytest.raises(TypeError, match="name of a registered class"):
        model_file_class(formerly="skrnn._vocabulary.Vocabulary")(
            type("Moved", (), {"__module__": "skrnn.other"})
        )


def _load_with_former_params(model, rewrite, tmp_path):
    """Load ``model``'s file after ``rewrite`` has changed the parameters its
    header names into those an earlier release wrote."""
    buffer = io.BytesIO()
    model.save(buffer)
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    header = json.loads(members[_HEADER].tobytes())
    rewrite(header["estimator"]["__estimator__"]["params"])
    members[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    written = io.BytesIO()
    np.savez(written, **members)
    return _load_bytes(written.getvalue(), tmp_path)


@pytest.mark.parametrize("filters", [4, 64])
def test_a_file_with_the_former_char_encoder_parameters_loads(filters, tmp_path):
    """Files written before CharCNN give its settings as the tagger's
    char_embedding_dim, char_filters and char_window: they load into a
    CharCNN ("cnn" when they are its defaults)."""
    model = RNNTagger(**SMALL, char_encoder=CharCNN(filters=filters))
    model.fit(TOKENS, TAGS)

    def rewrite(params):
        settings = params["char_encoder"]["__object__"]["state"]
        assert settings == {"embedding_dim": 16, "filters": filters, "window": 3}
        params["char_encoder"] = "cnn"
        params.update({f"char_{k}": v for k, v in settings.items()})

    loaded = _load_with_former_params(model, rewrite, tmp_path)
    if filters == 64:
        assert loaded.char_encoder == "cnn"
    else:
        assert loaded.char_encoder.get_params() == model.char_encoder.get_params()
    _assert_same_output(loaded.predict_proba(TOKENS), model.predict_proba(TOKENS))


@pytest.mark.parametrize(
    "word_features, former, expected",
    [
        # the defaults, which load as the default "auto"
        (
            "auto",
            {"suffix_length": 4, "lowercase_stream": True, "shape_stream": True},
            "auto",
        ),
        (
            WordFeatures(suffix_length=2, shape=False, embedding_dim=3),
            {"suffix_length": 2, "lowercase_stream": True, "shape_stream": False},
            WordFeatures(suffix_length=2, shape=False, embedding_dim=3),
        ),
        # the word alone, as word_features=None is
        (
            None,
            {"suffix_length": 0, "lowercase_stream": False, "shape_stream": False},
            WordFeatures(suffix_length=0, lowercase=False, shape=False),
        ),
    ],
)
def test_a_file_with_the_former_word_feature_parameters_loads(
    word_features, former, expected, tmp_path
):
    """Files written before WordFeatures give its settings as the tagger's
    suffix_length, lowercase_stream, shape_stream and feature_embedding_dim:
    they load into a WordFeatures ("auto" when they are its defaults)."""
    model = RNNTagger(**SMALL, word_features=word_features).fit(TOKENS, TAGS)
    embedding_dim = model._word_features().embedding_dim

    def rewrite(params):
        del params["word_features"]
        params.update(former, feature_embedding_dim=embedding_dim)

    loaded = _load_with_former_params(model, rewrite, tmp_path)
    assert loaded.word_features == expected
    assert loaded.featurizer_.stream_names_ == model.featurizer_.stream_names_
    _assert_same_output(loaded.predict_proba(TOKENS), model.predict_proba(TOKENS))


def test_a_subclass_outside_skrnn_is_not_registered(tmp_path):
    class RNNTagger(skrnn.RNNTagger):  # same name as skrnn's, defined in a test
        pass

    class _Private(SaveMixin, BaseEstimator):
        pass

    assert _estimator_classes()["skrnn.RNNTagger"] is skrnn.RNNTagger
    assert _Private not in _estimator_classes().values()
    tagger = RNNTagger(**SMALL).fit(TOKENS, TAGS)
    with pytest.raises(TypeError, match="not a subclass defined elsewhere"):
        tagger.save(tmp_path / "m")
    assert not list(tmp_path.iterdir())


def test_skrnn_classes_of_one_name_and_foreign_helpers_are_refused():
    before = dict(_estimator_classes()), dict(_helper_classes())
    with pytest.raises(TypeError, match="that name is skrnn.tagger.RNNTagger's"):
        type("RNNTagger", (SaveMixin, BaseEstimator), {"__module__": "skrnn.other"})
    # a private class of skrnn is not registered
    type("_Hidden", (SaveMixin, BaseEstimator), {"__module__": "skrnn.other"})
    with pytest.raises(TypeError, match="skrnn's own module-level classes only"):

        @model_file_class
        class Helper:
            pass

    with pytest.raises(TypeError, match="skrnn's own module-level classes only"):
        model_file_class(type("Helper", (), {"__module__": "tests.helpers"}))
    assert (dict(_estimator_classes()), dict(_helper_classes())) == before
    with pytest.raises(TypeError):  # read-only views
        _estimator_classes()["skrnn.Evil"] = Pipeline


def _imports(path):
    """(inside a function?, module, names) of each import statement of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {
        id(node)
        for scope in ast.walk(tree)
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for node in ast.walk(scope)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield id(node) in nested, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            yield id(node) in nested, module, tuple(a.name for a in node.names)


def test_persistence_imports_no_skrnn_module_and_none_imports_it_lazily():
    imports = list(_imports(SKRNN / "_persistence.py"))
    relative = [(m, names) for _, m, names in imports if m.startswith(".")]
    # only the version, from the package itself, when a file is written or read
    assert set(relative) == {(".", ("__version__",))}
    assert not any(m.split(".")[0] == "skrnn" for _, m, _ in imports)
    for path in SKRNN.rglob("*.py"):
        for inside, module, names in _imports(path):
            uses = module.endswith("_persistence") or "_persistence" in names
            assert not (uses and inside), f"{path} imports _persistence lazily"


def test_the_engine_imports_no_other_skrnn_module():
    for path in (SKRNN / "_engine").glob("*.py"):
        for _, module, _ in _imports(path):
            assert not module.startswith(".."), (path, module)
            assert module.split(".")[0] not in ("skrnn", "sklearn"), (path, module)
