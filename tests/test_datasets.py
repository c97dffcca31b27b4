from collections import Counter, defaultdict

import numpy as np
import pytest

from skrnn.datasets import (
    data_dir,
    load_conll,
    load_conllu,
    load_sst2,
    load_token_tag,
    make_entity_tagging,
    make_multichannel_series,
    make_sequence_classification,
    make_tagging,
)
from skrnn.metrics import entity_f1_score, invalid_transitions

UPOS = {
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
    "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
}  # fmt: skip

CONLLU = """\
# newdoc id = doc1
# sent_id = 1
# text = I don't know.
1\tI\tI\tPRON\tPRP\t_\t4\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

# sent_id = 2
1\tHe\the\tPRON\tPRP\t_\t2\tnsubj\t_\t_
2\tran\trun\tVERB\tVBD\t_\t0\troot\t_\t_
2.1\tran\trun\tVERB\tVBD\t_\t_\t_\t_\tCopyOf=2
3\tfast\tfast\tADV\tRB\t_\t2\tadvmod\t_\t_
"""


@pytest.fixture
def real_data():
    path = data_dir()
    if path is None:
        pytest.skip("SKRNN_DATA_DIR is not set; it names the directory of the corpora")
    return path


def test_load_conllu_skips_comments_ranges_and_empty_nodes(tmp_path):
    path = tmp_path / "tiny.conllu"
    # No blank line after the last sentence: it must still be read.
    path.write_text(CONLLU, encoding="utf-8")
    X, y = load_conllu(path)
    assert X == [["I", "do", "n't", "know", "."], ["He", "ran", "fast"]]
    assert y == [["PRON", "AUX", "PART", "VERB", "PUNCT"], ["PRON", "VERB", "ADV"]]
    X2, y2 = load_conllu(str(path), tag="xpos")
    assert X2 == X
    assert y2 == [["PRP", "VBP", "RB", "VB", "."], ["PRP", "VBD", "RB"]]


def test_load_conllu_errors(tmp_path):
    path = tmp_path / "bad.conllu"
    path.write_text("# c\n1\tI\tI\tPRON\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: .*10 tab-separated fields, found 4"):
        load_conllu(path)
    with pytest.raises(ValueError, match="tag"):
        load_conllu(path, tag="deprel")


def test_load_sst2(tmp_path):
    path = tmp_path / "sst.txt"
    path.write_text("1 a fine film .\n\n0 dull\n", encoding="utf-8")
    X, y = load_sst2(path)
    assert X == [["a", "fine", "film", "."], ["dull"]]
    np.testing.assert_array_equal(y, [1, 0])
    assert y.dtype.kind == "i"
    path.write_text("positive a fine film\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: expected '<integer label> <tokens>'"):
        load_sst2(path)


def test_load_token_tag(tmp_path):
    path = tmp_path / "corpus.tsv"
    # CRLF endings, a whitespace-only separator, several blank lines, "#" as a
    # token, a token with a space, and no blank line after the last sentence.
    path.write_bytes(
        b"The\tDET\r\ncat\tNOUN\r\n \r\n\n#\tSYM\nNew York\tPROPN\n\nran\tVERB"
    )
    X, y = load_token_tag(path)
    assert X == [["The", "cat"], ["#", "New York"], ["ran"]]
    assert y == [["DET", "NOUN"], ["SYM", "PROPN"], ["VERB"]]
    path.write_text("", encoding="utf-8")
    assert load_token_tag(str(path)) == ([], [])


@pytest.mark.parametrize(
    "line", ["cat", "cat\tNOUN\textra", "\tNOUN", "cat\t", CONLLU.splitlines()[3]]
)
def test_load_token_tag_errors(tmp_path, line):
    path = tmp_path / "bad.tsv"
    path.write_text(f"The\tDET\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: expected 'TOKEN<TAB>TAG'"):
        load_token_tag(path)


def test_load_conll(tmp_path):
    path = tmp_path / "corpus.txt"
    # CoNLL-2003's layout: -DOCSTART- and its blank line (twice), four columns,
    # CRLF endings, a whitespace-only separator, tabs between the fields of one
    # line, and no blank line after the last sentence.
    path.write_bytes(
        b"-DOCSTART- -X- -X- O\r\n\r\nEU NNP B-NP B-ORG\r\nrejects VBZ B-VP O\r\n"
        b" \r\nPeter NNP B-NP B-PER\n\n-DOCSTART- -X- -X- O\n\n"
        b"Blackburn\tNNP I-NP\tB-LOC"
    )
    X, y = load_conll(path)
    assert X == [["EU", "rejects"], ["Peter"], ["Blackburn"]]
    assert y == [["B-ORG", "O"], ["B-PER"], ["B-LOC"]]
    assert load_conll(str(path), column=3) == (X, y)
    pos = [["NNP", "VBZ"], ["NNP"], ["NNP"]]
    assert load_conll(path, column=1) == (X, pos)
    assert load_conll(path, column=-3) == (X, pos)
    # CoNLL-2002's two columns, a -DOCSTART- line right before a sentence.
    path.write_text("-DOCSTART- O\nMelbourne B-LOC\n( O\n", encoding="utf-8")
    assert load_conll(path) == ([["Melbourne", "("]], [["B-LOC", "O"]])
    for text in ["", "\n\n", "-DOCSTART- -X- O\n\n"]:
        path.write_text(text, encoding="utf-8")
        assert load_conll(path) == ([], [])


@pytest.mark.parametrize(
    "text, column, match",
    [
        ("Melbourne B-LOC\nAustralia\n", -1,
         "line 2: expected a token and its tag in whitespace-separated field -1, "
         "got 1 field\\(s\\): 'Australia'"),
        ("EU NNP B-ORG\n\nPeter B-PER\n", 2, "line 3: .* field 2, got 2 field"),
        ("EU B-ORG\n", -2, "line 1: .* field -2, got 2 field"),
        ("EU B-ORG\n", 0, "column=0 is the token's field"),
        ("EU B-ORG\n", "last", "'column' parameter"),
    ],
)  # fmt: skip
def test_load_conll_errors(tmp_path, text, column, match):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        load_conll(path, column=column)


def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("SKRNN_DATA_DIR", raising=False)
    assert data_dir() is None
    monkeypatch.setenv("SKRNN_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


def test_real_ewt_train(real_data):
    X, y = load_conllu(real_data / "ud_english_ewt" / "en_ewt-ud-train.conllu")
    assert len(X) == 12544
    # Syntactic words only: multiword ranges (2,614) and empty nodes are skipped.
    assert sum(map(len, X)) == 204577
    assert [len(s) for s in X] == [len(t) for t in y]
    assert {t for tags in y for t in tags} == UPOS
    assert X[0][:3] == ["Al", "-", "Zaman"]


def test_real_sst2(real_data):
    sizes = {"train": 6920, "dev": 872, "test": 1821}
    for split, n in sizes.items():
        X, y = load_sst2(real_data / "sst2" / f"stsa.binary.{split}")
        assert len(X) == len(y) == n
        assert set(np.unique(y)) == {0, 1}
        assert all(len(s) > 0 for s in X)


def test_real_conll2002_es(real_data):
    root = real_data / "conll2002_es"
    if not root.is_dir():
        pytest.skip(f"{root} is not there")
    sizes = {"train": (8323, 264715), "testa": (1915, 52923), "testb": (1517, 51533)}
    for split, (n_sentences, n_tokens) in sizes.items():
        X, y = load_conll(root / f"esp.{split}")
        assert (len(X), sum(map(len, X))) == (n_sentences, n_tokens)  # SOURCE.md's
        assert [len(s) for s in X] == [len(t) for t in y]
        types = {"PER", "ORG", "LOC", "MISC"}
        assert {t for tags in y for t in tags} == {"O"} | {
            f"{p}-{k}" for p in "BI" for k in types
        }
        assert invalid_transitions(y) == 0  # IOB2, as documented
    assert X[0][:3] == ["La", "Coruña", ","]


def test_make_tagging_shapes_and_determinism():
    X, y = make_tagging(50, vocabulary_size=30, n_tags=4, random_state=0)
    assert len(X) == len(y) == 50
    assert [len(s) for s in X] == [len(t) for t in y]
    assert all(3 <= len(s) <= 15 for s in X)
    assert {t for s in y for t in s} == {"t0", "t1", "t2", "t3"}
    assert {w for s in X for w in s} <= {f"w{i}" for i in range(30)}
    X2, y2 = make_tagging(50, vocabulary_size=30, n_tags=4, random_state=0)
    assert (X, y) == (X2, y2)
    X3, _ = make_tagging(50, vocabulary_size=30, n_tags=4, random_state=1)
    assert X3 != X


def test_make_tagging_needs_context():
    X, y = make_tagging(1000, random_state=0)
    by_word = defaultdict(Counter)
    by_word_and_prev = defaultdict(Counter)
    for tokens, tags in zip(X, y, strict=True):
        for w, prev, tag in zip(tokens, ["<s>", *tags[:-1]], tags, strict=True):
            by_word[w][tag] += 1
            by_word_and_prev[w, prev][tag] += 1
    n_tokens = sum(map(len, X))
    lookup = sum(c.most_common(1)[0][1] for c in by_word.values()) / n_tokens
    # The word and the previous tag decide the tag; the word alone does not.
    assert all(len(c) == 1 for c in by_word_and_prev.values())
    assert lookup < 0.85
    ambiguous = [w for w, c in by_word.items() if len(c) > 1]
    assert len(ambiguous) == 5  # a tenth of the 50 words


def test_make_sequence_classification():
    X, y = make_sequence_classification(
        300, vocabulary_size=10, n_classes=3, random_state=0
    )
    assert len(X) == 300 and y.shape == (300,)
    assert set(y) == {0, 1, 2}
    assert all(5 <= len(s) <= 20 for s in X)
    triggers = {"w0": 0, "w1": 1, "w2": 2}
    found = [[w for w in s if w in triggers] for s in X]
    # Exactly one trigger per sequence, and it names the class.
    assert all(len(f) == 1 for f in found)
    assert [triggers[f[0]] for f in found] == y.tolist()
    positions = [next(i for i, w in enumerate(s) if w in triggers) for s in X]
    assert max(positions) > 5
    Xs, ys = make_sequence_classification(
        300, vocabulary_size=10, n_classes=3, trigger="start", random_state=0
    )
    assert [triggers[s[0]] for s in Xs] == ys.tolist()
    assert all(w not in triggers for s in Xs for w in s[1:])
    X2, y2 = make_sequence_classification(
        300, vocabulary_size=10, n_classes=3, random_state=0
    )
    assert X2 == X and np.array_equal(y2, y)
    with pytest.raises(ValueError, match="must exceed n_classes"):
        make_sequence_classification(vocabulary_size=3, n_classes=3)


def test_make_multichannel_series():
    X, y = make_multichannel_series(
        200, n_channels=3, n_timesteps=40, n_classes=3, random_state=0
    )
    assert X.shape == (200, 40, 3) and X.dtype == np.float64
    assert y.shape == (200,) and set(y) == {0, 1, 2}
    # Max-pooling over time reads the class; the last step does not.
    by_max = (X.max(axis=1).argmax(axis=1) == y).mean()
    by_last = (X[:, -1].argmax(axis=1) == y).mean()
    assert by_max > 0.9
    assert by_last < 0.6
    X2, y2 = make_multichannel_series(
        200, n_channels=3, n_timesteps=40, n_classes=3, random_state=0
    )
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_make_multichannel_series_ragged():
    X, y = make_multichannel_series(
        50, n_channels=2, n_timesteps=30, min_timesteps=10, random_state=0
    )
    assert isinstance(X, list) and len(X) == 50
    lengths = [x.shape[0] for x in X]
    assert min(lengths) >= 10 and max(lengths) <= 30 and len(set(lengths)) > 5
    assert all(x.shape[1] == 2 for x in X)
    by_max = np.mean([x.max(axis=0).argmax() == c for x, c in zip(X, y, strict=True)])
    assert by_max > 0.9
    with pytest.raises(ValueError, match="needs at least as many channels"):
        make_multichannel_series(n_channels=2, n_classes=3)
    with pytest.raises(ValueError, match="burst_length=20 is longer"):
        make_multichannel_series(n_timesteps=30, min_timesteps=10, burst_length=20)


def test_make_entity_tagging_shapes_and_determinism():
    X, y = make_entity_tagging(100, min_length=4, max_length=12, random_state=0)
    assert len(X) == len(y) == 100
    assert [len(s) for s in X] == [len(t) for t in y]
    assert all(4 <= len(s) <= 12 for s in X)
    assert all(isinstance(w, str) for s in X for w in s)
    assert {t for s in y for t in s} == {
        "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG",
    }  # fmt: skip
    assert invalid_transitions(y, scheme="IOB2") == 0
    again = make_entity_tagging(100, min_length=4, max_length=12, random_state=0)
    assert again == (X, y)
    assert make_entity_tagging(100, min_length=4, max_length=12, random_state=1)[0] != X
    # One-token sentences hold no entity (a span needs its trigger).
    X1, y1 = make_entity_tagging(20, min_length=1, max_length=1, random_state=0)
    assert all(len(s) == 1 for s in X1) and {t for s in y1 for t in s} == {"O"}


def test_make_entity_tagging_iobes():
    X, y = make_entity_tagging(200, random_state=0)
    X2, y2 = make_entity_tagging(200, scheme="IOBES", random_state=0)
    assert X2 == X  # the same sentences and entities, tagged another way
    prefixes = {t[0] for s in y2 for t in s}
    assert prefixes == set("OBIES")
    assert invalid_transitions(y2, scheme="IOBES") == 0
    assert entity_f1_score(y, y2) == 1.0
    assert entity_f1_score(y2, y2, mode="strict", scheme="IOBES") == 1.0
    for tags, tags2 in zip(y, y2, strict=True):
        for t, t2, after in zip(tags, tags2, [*tags[1:], "O"], strict=True):
            single = t.startswith("B-") and not after.startswith("I-")
            last = t.startswith("I-") and not after.startswith("I-")
            expected = "S" if single else "E" if last else t[0]
            assert t2[0] == expected and t2[1:] == t[1:]


def test_make_entity_tagging_needs_context():
    X, y = make_entity_tagging(1000, random_state=0)
    by_word = defaultdict(Counter)
    by_context = defaultdict(Counter)
    before_span = defaultdict(Counter)
    first_types = defaultdict(set)
    for tokens, tags in zip(X, y, strict=True):
        prev_words, prev_tags = ["<s>", *tokens[:-1]], ["O", *tags[:-1]]
        for w, pw, pt, tag in zip(tokens, prev_words, prev_tags, tags, strict=True):
            by_word[w][tag] += 1
            by_context[pw, pt, w][tag] += 1
            if tag.startswith("B-"):
                before_span[pw][tag[2:]] += 1
                first_types[w].add(tag[2:])
    # The word, the word before it and the tag before it decide the tag.
    assert all(len(c) == 1 for c in by_context.values())
    # The trigger decides the type: each trigger comes before one type only.
    assert {w: set(c) for w, c in before_span.items()} == {
        "mr": {"PER"}, "ms": {"PER"}, "dr": {"PER"}, "in": {"LOC"}, "to": {"LOC"},
        "near": {"LOC"}, "at": {"ORG"}, "of": {"ORG"},
    }  # fmt: skip
    # Triggers are also plain words; some names take several types, and the
    # later tokens of spans carry the span's type, whatever the word.
    assert all(by_word[w]["O"] > 0 for w in before_span)
    assert sum(len(types) == 2 for types in first_types.values()) >= 10
    later = {t[2:] for tokens, tags in zip(X, y, strict=True)
             for w, t in zip(tokens, tags, strict=True)
             if w == "wells" and t.startswith("I-")}  # fmt: skip
    assert later == {"PER", "LOC", "ORG"}
    n_tokens = sum(map(len, X))
    lookup = sum(c.most_common(1)[0][1] for c in by_word.values()) / n_tokens
    assert lookup < 0.9  # 0.85: most entity tokens need their context


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"scheme": "BIO"}, ValueError, "'scheme' parameter"),
        ({"n_sequences": 0}, ValueError, "'n_sequences' parameter"),
        ({"min_length": 0}, ValueError, "'min_length' parameter"),
        ({"min_length": 8, "max_length": 5}, ValueError, "must not exceed"),
        ({"random_state": "seed"}, ValueError, "'random_state' parameter"),
    ],
)
def test_make_entity_tagging_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        make_entity_tagging(**params)
