"""Tests of skrnn._data: validation, tags, splitting, vocabularies, featurizer."""

from sklearn.base import BaseEstimator

from skrnn._data import (
    Sequences,
    TokenFeaturizer,
    Vocabulary,
    split_sequences,
    validate_sequences,
    validate_tags,
    word_shape,
)


class Dummy(BaseEstimator):
    """Minimal estimator to validate input on."""


def test_tokens_round_trip():
    X = [["The", "cat"], [], ["sat"]]
    seqs = validate_sequences(Dummy(), X)
    assert isinstance(seqs, Sequences)
    assert seqs.kind == "tokens" and seqs.form == "list"
    assert seqs.values.tolist() == ["The", "cat", "sat"]
    assert seqs.lengths.tolist() == [2, 0, 1]
    tags = validate_tags([["D", "N"], [], ["V"]], seqs)
    parts = split_sequences(tags, seqs)
    assert [p.tolist() for p in parts] == [["D", "N"], [], ["V"]]


def test_vocabulary_and_featurizer_basics():
    vocab = Vocabulary(min_freq=2).fit("a b a c b a d".split())
    assert vocab.tokens_ == ["<unk>", "a", "b"]
    assert vocab.transform(["a", "zz", "b"]).tolist() == [1, 0, 2]
    feats = TokenFeaturizer().fit(["The", "cat"]).transform(["The", "dog"])
    assert feats.shape == (2, 6)
    assert word_shape("U.S.") == "X.X."
