"""Turn raw text into token sequences, the input form of skrnn's estimators, and
entity tags from one scheme into the other."""

import re

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions, validate_params

from ._entities import invalid_transitions
from ._persistence import SaveMixin
from ._tag_schemes import rewrite

__all__ = ["Tokenizer", "convert_tag_scheme"]


class Tokenizer(SaveMixin, TransformerMixin, BaseEstimator):
    """Split raw strings into lists of tokens with a regular expression.

    A stateless transformer (like
    :class:`~sklearn.feature_extraction.text.HashingVectorizer`): ``fit`` only
    validates, so it can sit first in a :class:`~sklearn.pipeline.Pipeline` such as
    ``make_pipeline(Tokenizer(), RNNClassifier())`` that is fitted on raw text.
    Like the other skrnn estimators it has ``save(path)`` (read back with
    :func:`skrnn.load`), and it is stored as a step of a saved pipeline.

    Parameters
    ----------
    token_pattern : str, default=r"(?u)\\w+|[^\\w\\s]"
        Regular expression a token matches, used with :func:`re.findall`. The
        default keeps runs of word characters and makes each punctuation mark
        its own token. With one capturing group, the group is the token.
    lowercase : bool, default=True
        Convert the text to lowercase before tokenizing.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : Same ``token_pattern``
        convention, but counts tokens instead of keeping their order.

    Examples
    --------
    >>> from skrnn import Tokenizer
    >>> Tokenizer().fit_transform(["Hello, world!", "It's fine."])
    [['hello', ',', 'world', '!'], ['it', "'", 's', 'fine', '.']]
    """

    _parameter_constraints: dict = {
        "token_pattern": [str],
        "lowercase": ["boolean"],
    }

    def __init__(self, *, token_pattern=r"(?u)\w+|[^\w\s]", lowercase=True):
        self.token_pattern = token_pattern
        self.lowercase = lowercase

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the input; nothing is learned.

        Parameters
        ----------
        X : iterable of str
            Raw documents.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The tokenizer.
        """
        self._compile()
        self._check_documents(X)
        return self

    def transform(self, X):
        """Split each document into tokens.

        Parameters
        ----------
        X : iterable of str
            Raw documents.

        Returns
        -------
        tokens : list of list of str
            The tokens of each document, in order.
        """
        pattern = self._compile()
        docs = self._check_documents(X)
        if self.lowercase:
            return [pattern.findall(doc.lower()) for doc in docs]
        return [pattern.findall(doc) for doc in docs]

    def _compile(self):
        try:
            pattern = re.compile(self.token_pattern)
        except (re.error, TypeError) as exc:
            raise ValueError(
                f"token_pattern={self.token_pattern!r} is not a valid regular "
                f"expression: {exc}"
            ) from None
        if pattern.groups > 1:
            raise ValueError(
                f"token_pattern={self.token_pattern!r} has {pattern.groups} "
                "capturing groups; use at most one (the token), e.g. (?:...) for "
                "the others."
            )
        return pattern

    @staticmethod
    def _check_documents(X):
        if isinstance(X, (str, bytes)):
            raise TypeError(
                "Tokenizer expects an iterable of raw documents (e.g. a list of "
                f"str), got a single {type(X).__name__}; wrap it in a list."
            )
        try:
            docs = list(X)
        except TypeError:
            raise TypeError(
                "Tokenizer expects an iterable of raw documents (e.g. a list of "
                f"str), got {type(X).__name__}."
            ) from None
        for i, doc in enumerate(docs):
            if not isinstance(doc, str):
                hint = " (decode bytes first)" if isinstance(doc, bytes) else ""
                raise TypeError(
                    f"Tokenizer expects each document to be a str; document {i} "
                    f"is a {type(doc).__name__}{hint}."
                )
        return docs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


@validate_params(
    {"y": ["array-like"], "scheme": [StrOptions({"IOB2", "IOBES"})]},
    prefer_skip_nested_validation=True,
)
def convert_tag_scheme(y, scheme):
    """Write entity tag sequences in the IOB2 or the IOBES scheme.

    The two schemes mark the same spans: IOBES tags a one-token entity ``S-X``
    where IOB2 tags it ``B-X``, and the last token of a longer one ``E-X``
    where IOB2 tags it ``I-X``. Converting is lossless both ways, so a tagger
    can be trained on IOBES tags and its predictions written back to IOB2. On
    CoNLL-2002 Spanish, ``RNNTagger`` trained on the IOBES form of the IOB2
    training tags scored about 0.4 entity F1 higher on the test set, with the
    softmax and with the CRF output (seeds 0-2, docs/benchmarks.md).

    Parameters
    ----------
    y : list of array-like of str
        Tag sequences under IOB2 or IOBES (IOBES if any tag has the prefix
        ``E-`` or ``S-``): ``O`` and entity tags such as ``B-PER``.
    scheme : {"IOB2", "IOBES"}
        The scheme to write them in.

    Returns
    -------
    y_converted : list of ndarray of str
        One array per sequence, the same tags where the schemes agree.

    Raises
    ------
    ValueError
        If a tag is not ``O`` or an entity tag, or the sequences break their
        scheme (an ``I-X`` after ``O``, as in IOB1): such spans have no
        counterpart in the other scheme.

    See Also
    --------
    skrnn.metrics.invalid_transitions : Count the transitions a scheme forbids.

    Examples
    --------
    >>> from skrnn.preprocessing import convert_tag_scheme
    >>> iobes = convert_tag_scheme([["B-PER", "I-PER", "O", "B-LOC"]], "IOBES")
    >>> iobes[0].tolist()
    ['B-PER', 'E-PER', 'O', 'S-LOC']
    >>> convert_tag_scheme(iobes, "IOB2")[0].tolist()
    ['B-PER', 'I-PER', 'O', 'B-LOC']
    """
    # checks the form of y too, with a clear error for a tag that is neither O
    # nor an entity tag
    n_invalid = invalid_transitions(y, scheme=None)
    if n_invalid:
        raise ValueError(
            f"y breaks its tagging scheme in {n_invalid} place(s), for example an "
            "I-X after O or after another type (IOB1 tags); convert_tag_scheme "
            "needs valid IOB2 or IOBES sequences. skrnn.metrics."
            "invalid_transitions counts them."
        )
    lengths = [len(seq) for seq in y]
    flat = [tag for seq in y for tag in seq]
    converted = rewrite(flat, lengths, scheme)
    ends = np.cumsum(lengths)
    return [
        np.array(converted[end - n : end].tolist(), dtype=str)
        for n, end in zip(lengths, ends, strict=True)
    ]
