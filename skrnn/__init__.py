"""skrnn: scikit-learn estimators for sequences on a small NumPy BPTT engine."""

from ._persistence import load, save
from ._spelling import CharCNN
from ._vocabulary import WordFeatures
from .classifier import RNNClassifier
from .ensemble import VotingTagger
from .hmm import HMMTagger
from .language_model import RNNLanguageModel
from .preprocessing import Tokenizer
from .tagger import RNNTagger

__version__ = "0.1.0.dev0"

__all__ = [
    "CharCNN",
    "HMMTagger",
    "RNNClassifier",
    "RNNLanguageModel",
    "RNNTagger",
    "Tokenizer",
    "VotingTagger",
    "WordFeatures",
    "load",
    "save",
]
