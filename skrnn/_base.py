"""The training loop shared by the RNN estimators.

An estimator turns its input into an ``EncodedSequences`` (flat ids and/or features,
lengths, targets) and describes its network; ``BaseRNN`` does the rest: minibatches of
similar length, the optimizer, clipping, early stopping, per-epoch history and
progress lines, ``warm_start`` and ``partial_fit``.
"""

import functools
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from threadpoolctl import threadpool_info, threadpool_limits

from ._engine import (
    CELLS,
    OPTIMIZERS,
    SequenceNetwork,
    WeightAverage,
    clip_grad_norm,
    keeps_rows_apart,
    length_batches,
    make_batch,
    rows_apart,
    segment_positions,
    threads,
    token_batches,
)
from ._persistence import model_file_class

# The engine imports numpy and scipy only, so its optimizers, whose state a model
# file holds, join the model-file registry here, where skrnn takes them from the
# engine: every ``solver`` can be saved.
for _optimizer in OPTIMIZERS.values():
    model_file_class(_optimizer)
del _optimizer

# A sequence's prediction must not depend on which other sequences share its batch
# (scikit-learn's subset-invariance checks compare at atol=1e-7). The compiled
# kernels compute every row of a product apart from the others (gemm.rows_apart),
# bit for bit, so predictions run in float32 as training does; BLAS may round a row
# differently for another number of rows (in float32 by more than the checks
# allow), so without the kernels predictions run in float64, as the language
# model's always do.
PREDICT_DTYPE = np.float64
PREDICT_BATCH_SIZE = 256
# Prediction batches of sentences hold at most this many padded steps (see
# token_batches).
PREDICT_BATCH_TOKENS = 2048
# batch_size="auto": this many sequences per batch, fewer when an epoch would
# then hold fewer than MIN_STEPS_PER_EPOCH optimizer steps.
AUTO_BATCH_SIZE = 32
MIN_STEPS_PER_EPOCH = 20
# short_fit_steps: the largest factor by which a short fit's rate is raised.
MAX_RATE_BOOST = 4.0


def _engine_threads(method):
    """Run ``method`` with the engine's large products on as many threads as BLAS
    may use (threadpoolctl's limit, by default the cores) and BLAS itself on one.

    The per-step products of the time loop are small (``B`` rows): on the 2 shared
    cores we measure on, multi-threaded OpenBLAS spent its time synchronising
    threads there, and an epoch ran up to 10x slower than with one thread. The
    products over all steps of a batch are split across threads by the engine
    instead (``skrnn._engine.gemm``). ``threadpoolctl.threadpool_limits(1)``
    around a fit makes it serial. (threadpoolctl is a dependency of
    scikit-learn.)
    """

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        if getattr(_inside_engine_threads, "value", False):  # validation in fit
            return method(*args, **kwargs)
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        with threadpool_limits(limits=1, user_api="blas"), threads(min(blas or [1])):
            _inside_engine_threads.value = True
            try:
                return method(*args, **kwargs)
            finally:
                _inside_engine_threads.value = False

    return wrapper


_inside_engine_threads = threading.local()


@dataclass
class EncodedSequences:
    """Sequences ready for the engine: flat arrays over all steps plus lengths.

    Attributes
    ----------
    lengths : ndarray of shape (n_sequences,)
    ids : ndarray of shape (n_steps, n_streams) or None
        Token ids of each embedded stream.
    features : ndarray of shape (n_steps, n_features) or None
        Dense per-step inputs.
    targets : ndarray or None
        Class ids: ``(n_steps,)`` for per-step targets, ``(n_sequences,)`` for
        per-sequence targets (see ``per_step``).
    per_step : bool
    bag_ids, bag_offsets : ndarray or None
        Optional bag of n-gram ids per sequence, concatenated: sequence ``i``'s
        are ``bag_ids[bag_offsets[i]:bag_offsets[i + 1]]`` (see ``_bag_size``).
    """

    lengths: np.ndarray
    ids: np.ndarray = None
    features: np.ndarray = None
    targets: np.ndarray = None
    per_step: bool = True
    bag_ids: np.ndarray = None
    bag_offsets: np.ndarray = None

    @property
    def offsets(self):
        return np.concatenate([[0], np.cumsum(self.lengths)])

    @property
    def n_sequences(self):
        return self.lengths.size

    @property
    def n_steps(self):
        return int(self.lengths.sum())

    def batch(self, index, weights=None):
        """The padded ``Batch`` of sequences ``index``."""
        targets = self.targets
        return make_batch(
            index,
            self.offsets,
            self.lengths,
            ids=self.ids,
            features=self.features,
            targets=targets if self.per_step else None,
            sequence_targets=None if self.per_step else targets,
            weights=weights,
            bag_ids=self.bag_ids,
            bag_offsets=self.bag_offsets,
        )

    def subset(self, index):
        """The sequences ``index``, in that order."""
        steps = segment_positions(self.offsets[index], self.lengths[index])
        take = _take_rows
        bag_ids = bag_offsets = None
        if self.bag_ids is not None:
            counts = np.diff(self.bag_offsets)
            bag_ids = self.bag_ids[
                segment_positions(self.bag_offsets[index], counts[index])
            ]
            bag_offsets = np.concatenate([[0], np.cumsum(counts[index])])
        return EncodedSequences(
            lengths=self.lengths[index],
            ids=take(self.ids, steps),
            features=take(self.features, steps),
            targets=take(self.targets, steps if self.per_step else index),
            per_step=self.per_step,
            bag_ids=bag_ids,
            bag_offsets=bag_offsets,
        )


def _take_rows(array, rows):
    return None if array is None else array[rows]


class _RateSchedule:
    """The step size of each optimizer step of one fit: ``rate`` throughout
    (``"constant"``), or falling in a straight line from ``2 * rate`` to 0 over
    the fit's ``planned_steps`` (``"linear"``: the same mean step, so the same
    distance travelled; a fit without a plan, as ``partial_fit``, stays
    constant). A fit that stops early stops on the way down."""

    def __init__(self, rate, planned_steps, kind):
        self.rate = rate
        self.planned_steps = planned_steps if kind == "linear" else None
        self.steps = 0

    def next_rate(self):
        self.steps += 1
        if self.planned_steps is None:
            return self.rate
        fall = max(0.0, 1.0 - (self.steps - 1) / self.planned_steps)
        return 2.0 * self.rate * fall


class ConvergenceMonitor:
    """Counts the epochs without progress, as hmmlearn's ``ConvergenceMonitor``.

    Progress is a score above the best so far by more than ``tol`` (for a loss,
    report its negative); training has converged after ``n_iter_no_change``
    epochs without it.
    """

    def __init__(self, tol, n_iter_no_change, best=None):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.best = best
        self.epochs_without_progress = 0

    def report(self, score):
        """Record an epoch's score; return whether it is within ``tol`` of the best
        (then its parameters are as good as the best's, and more trained)."""
        progress = self.best is None or score > self.best + self.tol
        self.epochs_without_progress = (
            0 if progress else (self.epochs_without_progress + 1)
        )
        as_good = self.best is None or score >= self.best - self.tol
        self.best = score if self.best is None else max(self.best, score)
        return as_good

    @property
    def converged(self):
        return self.epochs_without_progress >= self.n_iter_no_change


@model_file_class
class History(list):
    """One dict per epoch: ``epoch``, ``loss``, ``validation_score``, ``steps_per_s``,
    ``seconds`` (the epoch's), ``elapsed`` (since the fit began) and the
    optimizer's ``learning_rate``, as skorch's ``History``."""

    def column(self, key):
        return [row[key] for row in self]


def _plain_progress(batches, desc):
    """Yield ``batches``, printing how far the epoch is at every tenth of them."""
    n = len(batches)
    marks = {int(np.ceil(n * k / 10)) for k in range(1, 11)}
    start = time.perf_counter()
    for i, batch in enumerate(batches, start=1):
        yield batch
        if i in marks:
            print(f"  {desc}: {i}/{n} batches, {time.perf_counter() - start:.1f}s")


class BaseRNN(BaseEstimator):
    """Parameters and training loop shared by the RNN estimators.

    Subclasses define ``_encode_fit``, ``_encode_predict``, ``_network_head`` and the
    public prediction methods.
    """

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "cell": [StrOptions(set(CELLS))],
        "bidirectional": ["boolean"],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "solver": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # --- what a subclass provides -------------------------------------------------

    def _encode_fit(self, X, y, **kwargs):
        """Validate and encode training data, fitting vocabularies and classes
        (only on a fresh fit); return an ``EncodedSequences``."""
        raise NotImplementedError

    def _network_head(self):
        """``"step"`` for a softmax per step, or a pooling for one per sequence."""
        raise NotImplementedError

    def _input_spec(self):
        """``(vocab_sizes, embedding_dims, n_features)`` of the network's input."""
        raise NotImplementedError

    def _word_dropout_groups(self):
        """What word dropout replaces by the unknown id 0: a list of ``(columns,
        counts)``, the id columns dropped together and the training frequency of
        each id of the first of them (which decides)."""
        return []

    def _sequence_weights(self, encoded):
        """Per-sequence loss weights, or None."""
        return None

    def _bag_size(self):
        """Size of the bag-of-n-grams vocabulary (``EncodedSequences.bag_ids``)
        whose linear weights a pooled head adds to its logits; 0 for none."""
        return 0

    def _linear_vocab_sizes(self):
        """Sizes of the per-step linear tables over the first id columns whose
        weights a step head adds to its logits (``SequenceNetwork``'s
        ``linear_vocab_sizes``); empty for none."""
        return []

    def _characters(self):
        """The network's ``CharacterCNN`` word encoder, or None."""
        return None

    def _allowed_transitions(self):
        """``(start, trans, end)`` boolean arrays of the class transitions a
        step head's decoded path may take, or None for all."""
        return None

    # --- the network ----------------------------------------------------------------

    def _network(self, dtype=np.float32):
        vocab_sizes, embedding_dims, n_features = self._input_spec()
        return SequenceNetwork(
            len(self.classes_),
            vocab_sizes=vocab_sizes,
            embedding_dims=embedding_dims,
            n_features=n_features,
            cell=self.cell,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            head=self._network_head(),
            dropout=self.dropout,
            alpha=self.alpha,
            n_bag=self._bag_size(),
            linear_vocab_sizes=self._linear_vocab_sizes(),
            characters=self._characters(),
            adversarial=getattr(self, "adversarial", 0.0),
            output=getattr(self, "output_", "softmax"),
            allowed=self._allowed_transitions(),
            dtype=dtype,
        )

    def _batch_size(self, n_sequences):
        """``batch_size``; ``"auto"`` is ``AUTO_BATCH_SIZE`` sequences, fewer on a
        corpus too small for ``MIN_STEPS_PER_EPOCH`` batches of that size."""
        if self.batch_size != "auto":
            return self.batch_size
        return min(AUTO_BATCH_SIZE, max(1, -(-n_sequences // MIN_STEPS_PER_EPOCH)))

    def _learning_rate(self, planned_steps):
        """The rate of a fit planned for ``planned_steps`` optimizer steps (None:
        not planned, as ``partial_fit``).

        Opt-in, as ``average_decay``: an estimator that declares
        ``short_fit_steps`` raises the rate of a fit planned for fewer steps by
        ``short_fit_steps / planned_steps``, at most ``MAX_RATE_BOOST``. An Adam
        step moves each weight by about the rate, so a short fit then still
        travels as far as ``short_fit_steps`` steps at ``learning_rate``.
        """
        short = getattr(self, "short_fit_steps", None)
        if short is None or planned_steps is None or planned_steps >= short:
            return self.learning_rate
        return self.learning_rate * min(MAX_RATE_BOOST, short / planned_steps)

    def _planned_epochs(self, max_iter, n_batches):
        """``max_iter``, or fewer epochs for a fit that would take more than
        ``max_steps`` optimizer steps (opt-in, as ``short_fit_steps``)."""
        max_steps = getattr(self, "max_steps", None)
        if max_steps is None:
            return max_iter
        return min(max_iter, -(-max_steps // n_batches))

    def _schedule_kind(self, shortened):
        """``learning_rate_schedule``; ``"auto"`` falls linearly on a fit that
        ``max_steps`` shortened, so that it still ends on small steps."""
        kind = getattr(self, "learning_rate_schedule", "constant")
        if kind == "auto":
            return "linear" if shortened else "constant"
        return kind

    def _initial_params(self):
        """The parameters a fresh fit starts from."""
        return self._network(np.float32).init_params(self._rng)

    def _make_optimizer(self):
        if self.solver == "sgd":
            return OPTIMIZERS["sgd"](
                self.learning_rate, self.momentum, self.nesterovs_momentum
            )
        return OPTIMIZERS["adam"](self.learning_rate)

    def _is_fitted_network(self):
        return hasattr(self, "params_")

    # --- training -------------------------------------------------------------------

    @_engine_threads
    def _fit(self, X, y, *, incremental, **encode_kwargs):
        fresh = not self._is_fitted_network() or not (self.warm_start or incremental)
        if fresh:
            seed = check_random_state(self.random_state).randint(2**31 - 1)
            self._rng = np.random.default_rng(seed)
            encoded = self._encode_fit(X, y, reset=True, **encode_kwargs)
            self.params_ = self._initial_params()
            self._optimizer = self._make_optimizer()
            self.history_ = History()
            self.loss_curve_ = []
            self.validation_scores_ = []
            self.best_validation_score_ = None
            self.best_loss_ = np.inf
            self.n_iter_ = 0
            self.t_ = 0
        else:
            encoded = self._encode_fit(X, y, reset=False, **encode_kwargs)
        if encoded.n_steps == 0:
            raise ValueError("Cannot fit on sequences that are all empty.")
        encoded = encoded.subset(np.flatnonzero(encoded.lengths))
        validation = None
        if self.early_stopping and not incremental:
            encoded, validation = self._validation_split(encoded)
        max_iter = 1 if incremental else self.max_iter
        self._train(encoded, validation, max_iter, planned=not incremental)
        return self

    def _validation_split(self, encoded):
        """Hold out ``validation_fraction`` of the sequences (stratified by label for
        per-sequence targets)."""
        from sklearn.model_selection import train_test_split

        index = np.arange(encoded.n_sequences)
        stratify = None if encoded.per_step else encoded.targets
        if stratify is not None:
            counts = np.bincount(stratify)
            counts = counts[counts > 0]
            n_valid = int(np.ceil(self.validation_fraction * index.size))
            # a stratified split needs every class twice and on both sides
            if counts.min() < 2 or min(n_valid, index.size - n_valid) < counts.size:
                stratify = None
        train, valid = train_test_split(
            index,
            test_size=self.validation_fraction,
            random_state=int(self._rng.integers(2**31 - 1)),
            stratify=stratify,
        )
        if train.size == 0 or valid.size == 0:
            raise ValueError(
                "early_stopping needs at least 2 sequences to split off a validation "
                f"set; got {encoded.n_sequences}."
            )
        return encoded.subset(train), encoded.subset(valid)

    def _train(self, encoded, validation, max_iter, planned=True):
        network = self._network(np.float32)
        weights = self._sequence_weights(encoded)
        batch_size = self._batch_size(encoded.n_sequences)
        n_batches = -(-encoded.n_sequences // batch_size)
        epochs = self._planned_epochs(max_iter, n_batches) if planned else max_iter
        planned_steps = epochs * n_batches if planned else None
        self._optimizer.learning_rate = self._learning_rate(planned_steps)
        self._schedule = _RateSchedule(
            self._optimizer.learning_rate,
            planned_steps,
            self._schedule_kind(shortened=epochs < max_iter),
        )
        # Opt-in: an estimator that declares ``average_decay`` (with its constraint,
        # e.g. Interval(Real, 0, 1, closed="left")) validates and predicts with the
        # moving average of its weights; training steps continue from the raw ones.
        decay = getattr(self, "average_decay", 0.0)
        self._average = WeightAverage(self.params_, decay) if decay > 0 else None
        # Early stopping watches the validation score, otherwise the training loss.
        best = -self.best_loss_ if validation is None else self.best_validation_score_
        monitor = ConvergenceMonitor(self.tol, self.n_iter_no_change, best)
        best_params = None
        self._first_epoch = self.n_iter_ + 1  # where this fit's progress table starts
        start = time.perf_counter()
        for _ in range(epochs):
            epoch_start = time.perf_counter()
            loss = self._run_epoch(network, encoded, weights, batch_size)
            self.n_iter_ += 1
            self.loss_curve_.append(loss)
            score = None
            if validation is None:
                monitor.report(-loss)
                self.best_loss_ = min(self.best_loss_, loss)
            else:
                params = self._fitted_params()
                score = self._validation_score(validation, params)
                self.validation_scores_.append(score)
                if monitor.report(score):
                    best_params = params
                self.best_validation_score_ = monitor.best
            self._record_epoch(
                loss, score, encoded.n_steps, epoch_start, start, epochs
            )
            if monitor.converged:
                break
        else:
            if epochs > 1:
                limit = f"{epochs}" if epochs == max_iter else (
                    f"{epochs} epochs of {n_batches} steps for "
                    f"max_steps={self.max_steps}"
                )
                warnings.warn(
                    f"{type(self).__name__}: maximum iterations ({limit}) reached "
                    "and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=5,  # the user's fit: _train, _fit, its thread limit, fit
                )
        self.params_ = best_params if best_params is not None else self._fitted_params()
        del self._average, self._first_epoch, self._schedule

    def _fitted_params(self):
        """A copy of what predicts: the moving average of the weights, or the
        weights."""
        if self._average is None:
            return {k: v.copy() for k, v in self.params_.items()}
        return self._average.params()

    def _record_epoch(self, loss, score, n_steps, epoch_start, start, max_iter):
        now = time.perf_counter()
        row = {
            "epoch": self.n_iter_,
            "loss": loss,
            "validation_score": score,
            "steps_per_s": n_steps / (now - epoch_start),
            "seconds": now - epoch_start,
            "elapsed": now - start,
            "learning_rate": self._optimizer.learning_rate,
        }
        self.history_.append(row)
        if self.verbose:
            self._print_progress(row, max_iter)

    def _run_epoch(self, network, encoded, weights, batch_size):
        total, n_steps = 0.0, 0
        groups = self._word_dropout_groups() if self.word_dropout > 0 else []
        batches = length_batches(encoded.lengths, batch_size, self._rng)
        for index in self._batch_progress(batches):
            batch = encoded.batch(index, weights=weights)
            for columns, counts in groups:
                self._drop_words(batch.ids, columns, counts)
            loss, grads = network.loss_and_grad(self.params_, batch, rng=self._rng)
            if not np.isfinite(loss):
                self._raise_diverged(loss)
            clip_grad_norm(grads, self.clip_norm)
            self._optimizer.learning_rate = self._schedule.next_rate()
            self._optimizer.update(self.params_, grads)
            if self._average is not None:
                self._average.update(self.params_, grads)
            self.t_ += 1
            steps = int(batch.lengths.sum())
            total += loss * steps
            n_steps += steps
        return total / n_steps

    def _raise_diverged(self, loss):
        rate = f"it is {self.learning_rate}"
        if self._optimizer.learning_rate != self.learning_rate:
            rate += f"; this short fit stepped at {self._optimizer.learning_rate:.3g}"
        raise ValueError(
            f"The training loss became {loss} at epoch {self.n_iter_ + 1}: the fit "
            f"diverged. Use a smaller learning_rate ({rate}) or a smaller clip_norm "
            f"(it is {self.clip_norm})."
        )

    def _drop_words(self, ids, columns, counts):
        """Word dropout (Kiperwasser & Goldberg, 2016), in place on a batch's
        ``(T, B, n_streams)`` ids: an id seen ``c`` times in training becomes 0
        (unknown) with probability ``w / (w + c)``, ``w = word_dropout``, so that
        the model learns what to do with unseen words. Padding may be dropped too;
        it is never read."""
        c = counts[ids[..., columns[0]]]
        drop = self._rng.random(c.shape) < self.word_dropout / (self.word_dropout + c)
        for column in columns:
            ids[..., column][drop] = 0

    def _print_progress(self, row, max_iter):
        """One row of the per-epoch table (skorch's layout), after its header on
        the first epoch of a fit."""
        validation = row["validation_score"]
        columns = [
            ("epoch", f"{row['epoch']}/{max_iter}"),
            ("train_loss", f"{row['loss']:.4f}"),
            ("valid_acc", "" if validation is None else f"{validation:.4f}"),
            ("steps/s", f"{row['steps_per_s']:,.0f}"),
            ("dur", f"{row['seconds']:.1f}"),
        ]
        names, values = zip(*columns, strict=True)
        width = max(9, *map(len, names))
        if row["epoch"] == self._first_epoch:
            print("  ".join(f"{name:>{width}}" for name in names))
            print("  ".join("-" * width for _ in names))
        print("  ".join(f"{value:>{width}}" for value in values), flush=True)

    def _batch_progress(self, batches):
        """``batches``, with a progress bar within the epoch at ``verbose >= 2``
        (tqdm's when it is installed, else a line at every tenth)."""
        if self.verbose < 2:
            return batches
        desc = f"epoch {self.n_iter_ + 1}"
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return _plain_progress(batches, desc)
        return tqdm(batches, desc=desc, unit="batch", leave=False)

    # --- prediction -----------------------------------------------------------------

    @_engine_threads
    def _predict_log_proba_encoded(self, encoded, params=None, dtype=None):
        """Log-probabilities in input order: ``(n_steps, n_classes)`` per step, or
        ``(n_sequences, n_classes)`` per sequence.

        Empty sequences are skipped (per-step) — they have no steps to predict.
        """
        per_step = self._network_head() == "step"
        n_rows = encoded.n_steps if per_step else encoded.n_sequences
        out = np.empty((n_rows, len(self.classes_)))
        offsets, lengths = encoded.offsets, encoded.lengths
        with self._predicting(params, dtype) as (network, params):
            for index in self._prediction_batches(encoded):
                log_proba = network.predict_log_proba(params, encoded.batch(index))
                if per_step:
                    out[segment_positions(offsets[index], lengths[index])] = log_proba
                else:
                    out[index] = log_proba
        return out

    @contextmanager
    def _predicting(self, params=None, dtype=None):
        """The network in ``dtype`` and ``params`` (default ``params_``) cast to
        it, its products keeping each row apart from the others where the
        engine can (``gemm.rows_apart``). ``dtype`` defaults to float32 where
        they can and to ``PREDICT_DTYPE`` elsewhere (see there)."""
        apart = keeps_rows_apart(self.cell)
        if dtype is None:
            dtype = np.float32 if apart else PREDICT_DTYPE
        params = self.params_ if params is None else params
        params = {k: v.astype(dtype, copy=False) for k, v in params.items()}
        with rows_apart(apart):
            yield self._network(dtype), params

    @staticmethod
    def _prediction_batches(encoded):
        """The indices of the sequences of each prediction batch, in batches of
        similar length; empty sequences are left out."""
        nonempty = np.flatnonzero(encoded.lengths)
        for index in token_batches(encoded.lengths[nonempty], PREDICT_BATCH_TOKENS):
            yield nonempty[index]

    def _validation_predictions(self, encoded, params):
        """Predicted class ids of the validation set. In float32, as training,
        even where ``predict`` runs in float64 (without the compiled kernels,
        see ``PREDICT_DTYPE``): batch invariance does not matter here."""
        log_proba = self._predict_log_proba_encoded(encoded, params, np.float32)
        return log_proba.argmax(axis=1)

    def _validation_score(self, encoded, params):
        predicted = self._validation_predictions(encoded, params)
        return float(np.mean(predicted == encoded.targets))
