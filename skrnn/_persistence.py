"""Model files that run no code when loaded.

A model file is an ``.npz`` archive (``np.savez_compressed``): every numeric,
boolean or string array of the fitted estimator is one member, and one more
member, ``skrnn_header``, holds UTF-8 JSON with everything else: the format
name and version, the skrnn/scikit-learn/NumPy versions that wrote it, and the
estimator as a tree of tagged values (its ``get_params(deep=False)``, the rest
of its attributes, vocabularies, classes, history, optimizer state).

Loading reads the arrays with ``allow_pickle=False`` and parses the JSON; the
only objects it builds are plain values (None, bool, int, float, str, bytes,
list, tuple, dict), NumPy arrays and scalars, NumPy random generators, and
instances of registered classes. The registry is one each class joins where it
is defined: an skrnn estimator by inheriting :class:`SaveMixin` (under
``skrnn.<ClassName>``), a helper object by the :func:`model_file_class`
decorator (under ``<module>.<qualname>``); the few scikit-learn classes allowed
are listed here. ``import skrnn`` imports every module that defines one, so the
registry is complete before anything is loaded, and this module imports none
of those modules (no import circle). Estimators are rebuilt with their
``__init__`` (which only stores the hyperparameters), helper objects with
``object.__new__``, and both get their saved attributes back as data. A name
the file gives is only looked up in the registry: no ``__setstate__``,
``__reduce__`` or import named by the file is ever called. The same approach as
skops' ``trusted`` types, with the list fixed by skrnn's code.

See docs/model_files.md for what is supported and why.
"""

import inspect
import io
import json
import os
import warnings
import zipfile
import zlib
from types import MappingProxyType

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    RobustScaler,
    StandardScaler,
)

__all__ = ["SaveMixin", "load", "model_file_class", "save"]

FORMAT = "skrnn-model"
FORMAT_VERSION = 1
_HEADER = "skrnn_header"
_ZIP_MAGIC = b"PK\x03\x04"
# What zipfile and zlib raise on damaged archives (a flipped byte in a header
# can also ask for an unsupported compression method or zip feature).
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
)
# Bit generators whose state is plain ints and arrays (numpy.random's own).
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
# Tags of the JSON tree; a plain dict whose keys start with "__" is written as
# a list of pairs, so that no user dict can be read as a tag.
_TAGS = (
    "__array__",
    "__objects__",
    "__scalar__",
    "__bytes__",
    "__tuple__",
    "__dict__",
    "__generator__",
    "__random_state__",
    "__object__",
    "__estimator__",
)


# ------------------------------------------------------------------- registry

# The classes a model file may hold, by the stable name written in the file.
# skrnn's classes join where they are defined (SaveMixin.__init_subclass__ and
# @model_file_class); nothing is ever added from a file.
_ESTIMATORS = {
    # scikit-learn transformers whose fitted state is arrays and numbers only.
    "sklearn.pipeline.Pipeline": Pipeline,
    "sklearn.preprocessing.MaxAbsScaler": MaxAbsScaler,
    "sklearn.preprocessing.MinMaxScaler": MinMaxScaler,
    "sklearn.preprocessing.Normalizer": Normalizer,
    "sklearn.preprocessing.RobustScaler": RobustScaler,
    "sklearn.preprocessing.StandardScaler": StandardScaler,
}
_HELPERS = {}
# Names a helper class was written under before it moved to another module: a
# file written then still reads (never written any more).
_FORMER_NAMES = {}


def _estimator_classes():
    """Estimators a model file may hold, by the stable name written in it."""
    return MappingProxyType(_ESTIMATORS)


def _helper_classes():
    """skrnn's small objects inside fitted estimators, rebuilt from their
    attributes alone (no ``__init__``), by the name written in the file."""
    return MappingProxyType(_HELPERS)


def _in_skrnn(cls):
    return cls.__module__ == "skrnn" or cls.__module__.startswith("skrnn.")


def _register(registry, name, cls):
    """Add ``cls`` under ``name``; a name never moves to another class.

    The same module and qualified name again is the same class re-created
    (``importlib.reload``) and replaces it; any other class is refused, so that
    a file cannot be read as a class it was not written from.
    """
    known = registry.get(name)
    if known is not None and known is not cls:
        if (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} cannot join skrnn's model "
                f"files as {name!r}: that name is "
                f"{known.__module__}.{known.__qualname__}'s. Rename the class."
            )
    registry[name] = cls


def model_file_class(cls=None, *, formerly=None):
    """Class decorator: let skrnn model files hold instances of ``cls``.

    For skrnn's helper objects inside fitted estimators (vocabularies, history,
    optimizer state, ...): ``cls`` is registered under
    ``f"{cls.__module__}.{cls.__qualname__}"``, the name written in model files,
    and is rebuilt with ``object.__new__`` and its saved attributes, which must
    be values a model file holds. Apply it where the class is defined::

        from ._persistence import model_file_class

        @model_file_class
        class Vocabulary: ...

    A class moved to another module passes its former name, so that files
    written before the move still load: ``@model_file_class(formerly=
    "skrnn._data.Vocabulary")``.

    Only classes defined at module level in the skrnn package are accepted.
    """
    if cls is None:
        return lambda cls: model_file_class(cls, formerly=formerly)
    if not isinstance(cls, type):
        raise TypeError(f"model_file_class decorates a class, not {cls!r}.")
    if not _in_skrnn(cls) or "<locals>" in cls.__qualname__:
        raise TypeError(
            f"model_file_class registers skrnn's own module-level classes only, "
            f"not {cls.__module__}.{cls.__qualname__}."
        )
    name = f"{cls.__module__}.{cls.__qualname__}"
    _register(_HELPERS, name, cls)
    if formerly is not None:
        if formerly in _HELPERS:
            raise TypeError(f"{formerly!r} is the name of a registered class.")
        _FORMER_NAMES[formerly] = name
    return cls


def _name_of(cls, registry):
    for name, known in registry.items():
        if cls is known:
            return name
    return None


# ------------------------------------------------------------------- encoding


class _Encoder:
    """Turns a value into a JSON tree; arrays go to ``self.arrays``."""

    def __init__(self):
        self.arrays = {}
        self._memo = {}  # id(array) -> member name: shared arrays stay shared

    def encode(self, value, where):
        # NumPy scalars first: np.float64 is a float and np.str_ a str, but their
        # type is kept.
        if isinstance(value, np.generic):
            return self._scalar(value, where)
        if type(value) in (type(None), bool, int, float, str):
            return value
        if type(value) is bytes:
            return {"__bytes__": value.hex()}
        if type(value) is np.ndarray:
            return self._array(value, where)
        if isinstance(value, np.random.Generator):
            return {"__generator__": self._bit_state(value.bit_generator, where)}
        if type(value) is np.random.RandomState:
            state = value.get_state(legacy=False)
            return {"__random_state__": self.encode(state, where)}
        cls = type(value)
        name = _name_of(cls, _ESTIMATORS)
        if name is not None:
            return self._estimator(value, name, where)
        name = _name_of(cls, _HELPERS)
        if name is not None:
            return self._helper(value, name, where)
        if cls is tuple:
            return {"__tuple__": self._items(value, where)}
        if cls is list:
            return self._items(value, where)
        if cls is dict:
            return self._dict(value, where)
        hint = ""
        if isinstance(value, SaveMixin):
            hint = (
                " Only skrnn's own estimator classes are registered, not a "
                "subclass defined elsewhere."
            )
        raise TypeError(
            f"Cannot save {where}: a {cls.__module__}.{cls.__qualname__} is not a "
            "value skrnn model files hold (plain values, NumPy arrays, and skrnn's "
            f"and a few scikit-learn classes; see docs/model_files.md).{hint} Use "
            "skops.io.dump for other objects."
        )

    def _scalar(self, value, where):
        if value.dtype.kind not in "biufU":
            raise TypeError(f"Cannot save {where}: a NumPy {value.dtype} scalar.")
        return {"__scalar__": [value.dtype.str, value.item()]}

    def _array(self, value, where):
        if value.dtype.hasobject:
            if value.dtype != object:
                raise TypeError(f"Cannot save {where}: a structured object array.")
            items = [
                self.encode(item, f"{where}[{i}]") for i, item in enumerate(value.flat)
            ]
            return {"__objects__": {"shape": list(value.shape), "items": items}}
        name = self._memo.get(id(value))
        if name is None:
            name = f"a{len(self.arrays)}"
            self.arrays[name] = value
            self._memo[id(value)] = name
        return {"__array__": name}

    def _bit_state(self, bit_generator, where):
        state = bit_generator.state
        if state.get("bit_generator") not in _BIT_GENERATORS:
            raise TypeError(
                f"Cannot save {where}: a generator on {type(bit_generator).__name__}."
            )
        return self.encode(state, where)

    def _items(self, values, where):
        return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(values)]

    def _dict(self, value, where):
        if all(type(k) is str and not k.startswith("__") for k in value):
            return {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {
            "__dict__": [
                [self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                for k, v in value.items()
            ]
        }

    def _attributes(self, obj, where, skip=()):
        return {
            k: self.encode(v, f"{where}.{k}")
            for k, v in vars(obj).items()
            if k not in skip
        }

    def _estimator(self, est, name, where):
        params = est.get_params(deep=False)
        if hasattr(est, "_model_file_params"):
            params = est._model_file_params(params)
        body = {
            "class": name,
            "params": {
                k: self.encode(v, f"{where} parameter {k}") for k, v in params.items()
            },
            "state": self._attributes(est, where, skip=params),
        }
        return {"__estimator__": body}

    def _helper(self, obj, name, where):
        body = {"class": name, "state": self._attributes(obj, where)}
        if isinstance(obj, list):
            body["items"] = self._items(obj, where)
        return {"__object__": body}


# ------------------------------------------------------------------- decoding


class _Decoder:
    """Rebuilds values from a JSON tree and the archive's arrays."""

    def __init__(self, arrays):
        self.arrays = arrays

    def decode(self, tree):
        if isinstance(tree, list):
            return [self.decode(item) for item in tree]
        if not isinstance(tree, dict):
            return tree
        tags = [k for k in tree if k.startswith("__")]
        if not tags:
            return {k: self.decode(v) for k, v in tree.items()}
        if len(tree) != 1 or tags[0] not in _TAGS:
            raise ValueError(f"unknown entry {tags[0]!r}")
        tag, body = next(iter(tree.items()))
        return getattr(self, "_" + tag.strip("_"))(body)

    def _array(self, name):
        if name not in self.arrays:
            raise ValueError(f"the array {name!r} is missing")
        return self.arrays[name]

    def _objects(self, body):
        items = body["items"]
        out = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):  # item by item: lists stay elements
            out[i] = self.decode(item)
        return out.reshape(body["shape"])

    def _scalar(self, body):
        dtype, item = body
        dtype = np.dtype(dtype)
        if dtype.kind not in "biufU":
            raise ValueError(f"a scalar of unsupported dtype {dtype}")
        return dtype.type(item)

    def _bytes(self, body):
        return bytes.fromhex(body)

    def _tuple(self, body):
        return tuple(self.decode(body))

    def _dict(self, body):
        return {_hashable(self.decode(k)): self.decode(v) for k, v in body}

    def _generator(self, body):
        return np.random.Generator(self._bit_generator(self.decode(body)))

    def _random_state(self, body):
        return np.random.RandomState(self._bit_generator(self.decode(body)))

    def _bit_generator(self, state):
        name = state.get("bit_generator") if isinstance(state, dict) else None
        if name not in _BIT_GENERATORS:
            raise ValueError(f"a random generator of unknown kind {name!r}")
        bit_generator = getattr(np.random, name)()
        bit_generator.state = state
        return bit_generator

    def _object(self, body):
        name = body["class"]
        cls = _registered(_HELPERS, _FORMER_NAMES.get(name, name))
        obj = cls.__new__(cls)
        if isinstance(obj, list):
            list.extend(obj, self.decode(body["items"]))
        _set_attributes(obj, self.decode(body["state"]))
        return obj

    def _estimator(self, body):
        cls = _registered(_ESTIMATORS, body["class"])
        params = self.decode(body["params"])
        if hasattr(cls, "_params_from_model_file"):  # parameters since renamed
            params = cls._params_from_model_file(params)
        unknown = set(params) - set(cls._get_param_names())
        if unknown:
            raise ValueError(f"{cls.__name__} has no parameters {sorted(unknown)}")
        est = cls(**params)
        state = self.decode(body["state"])
        if set(state) & set(params):
            raise ValueError(f"{cls.__name__} attributes repeat its parameters")
        _set_attributes(est, state)
        return est


def _hashable(key):
    if isinstance(key, list):
        raise ValueError("a dict key that is a list")
    return key


def _registered(registry, name):
    if name not in registry:
        raise ValueError(
            f"it names the class {name!r}, which is not one of the classes skrnn "
            f"model files may hold: {', '.join(sorted(registry))}"
        )
    return registry[name]


def _set_attributes(obj, state):
    """Give ``obj`` its saved attributes; none may hide a method of its class
    (an attribute is data, never behaviour)."""
    cls = type(obj)
    for key, value in state.items():
        if not isinstance(key, str) or key.startswith("__"):
            raise ValueError(f"{cls.__name__} cannot have an attribute {key!r}")
        static = inspect.getattr_static(cls, key, None)
        if callable(static) or isinstance(static, (classmethod, staticmethod)):
            raise ValueError(
                f"an attribute {key!r} of {cls.__name__} would hide its method"
            )
        vars(obj)[key] = value


# ------------------------------------------------------------------ the files


def save(estimator, path):
    """Save a (fitted) estimator to a model file that runs no code when loaded.

    Parameters
    ----------
    estimator : estimator
        An skrnn estimator, or a :class:`~sklearn.pipeline.Pipeline` of skrnn
        estimators and the scikit-learn scalers listed in docs/model_files.md.
    path : str, os.PathLike or binary file object
        Where to write. A path is written to a temporary file beside it first and
        renamed, so an interrupted save leaves no partial file; the name is kept
        as given (no ``.npz`` is appended).

    Raises
    ------
    TypeError
        If part of the estimator's state cannot be stored; the message names the
        attribute.
    """
    from sklearn import __version__ as sklearn_version

    from . import __version__

    encoder = _Encoder()
    tree = encoder.encode(estimator, type(estimator).__name__)
    if not isinstance(tree, dict) or "__estimator__" not in tree:
        raise TypeError(
            f"save expects an skrnn estimator or a Pipeline of them; got a "
            f"{type(estimator).__name__}."
        )
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skrnn_version": __version__,
        "sklearn_version": sklearn_version,
        "numpy_version": np.__version__,
        "estimator": tree,
    }
    text = json.dumps(header, separators=(",", ":"))
    members = {_HEADER: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    members.update(encoder.arrays)
    if hasattr(path, "write"):
        np.savez_compressed(path, **members)
        return
    path = os.fspath(path)
    partial = f"{path}.partial"
    try:
        with open(partial, "wb") as file:
            np.savez_compressed(file, **members)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def load(path):
    """Load an estimator saved by :func:`save` or ``estimator.save``.

    Nothing in the file is unpickled or executed: the arrays are read with
    ``allow_pickle=False`` and only registered classes are built (see
    docs/model_files.md).

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        A model file.

    Returns
    -------
    estimator : estimator
        The estimator as it was saved; its predictions are identical.

    Raises
    ------
    ValueError
        If the file is not an skrnn model file (a pickle, a lone ``.npy``, any
        other file), is truncated or corrupted, holds pickled arrays or classes
        that are not registered, or was written in a newer format version.
    """
    if hasattr(path, "read"):
        name = getattr(path, "name", "the file object")
        data = path.read()
    else:
        name = os.fspath(path)
        with open(path, "rb") as file:
            data = file.read()
    _check_magic(data, name)
    header, arrays = _read_archive(data, name)
    _check_header(header, name)
    tree = header.get("estimator")
    if not isinstance(tree, dict) or list(tree) != ["__estimator__"]:
        raise ValueError(f"{name!s} is not a valid skrnn model file (no estimator).")
    try:
        return _Decoder(arrays).decode(tree)
    except KeyError as exc:
        raise ValueError(
            f"{name!s} is not a valid skrnn model file (missing entry {exc})."
        ) from None
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise ValueError(f"{name!s} is not a valid skrnn model file ({exc}).") from None


def _check_magic(data, name):
    if data.startswith(_ZIP_MAGIC):
        return
    if not data:
        what = "is empty"
    elif data[:1] == b"\x80" or data[:1] in (b"(", b"c", b"]", b"}"):
        what = (
            "looks like a pickle. skrnn never unpickles files; load a pickle with "
            "pickle or joblib only if you trust where it came from"
        )
    elif data.startswith(b"\x93NUMPY"):
        what = "is a single .npy array"
    else:
        what = "is not a zip archive of arrays"
    raise ValueError(
        f"{name!s} {what}; expected an skrnn model file written by save()."
    )


def _read_archive(data, name):
    """The header (parsed JSON) and every array of the archive."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(
                f"{name!s} holds an object array, that is pickled data; skrnn model "
                "files never do, and it is not loaded."
            ) from None
        raise _corrupted(name, exc) from None
    except _ARCHIVE_ERRORS as exc:
        raise _corrupted(name, exc) from None
    raw = arrays.pop(_HEADER, None)
    if not all(isinstance(a, np.ndarray) for a in arrays.values()):
        raise _corrupted(name, "a member of the archive is not an .npy array")
    if raw is None:
        raise ValueError(
            f"{name!s} is an .npz archive but not an skrnn model file (it has no "
            f"{_HEADER!r} entry)."
        )
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _corrupted(name, "its header is not text")
    try:
        return json.loads(raw.tobytes().decode("utf-8")), arrays
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _corrupted(name, exc) from None


def _corrupted(name, reason):
    return ValueError(f"{name!s} is truncated or corrupted ({reason}).")


def _check_header(header, name):
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{name!s} is not an skrnn model file (no format {FORMAT!r}).")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _corrupted(name, f"format version {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{name!s} has model file format version {version}, newer than this "
            f"skrnn reads (up to {FORMAT_VERSION}); it was written by skrnn "
            f"{header.get('skrnn_version')}. Upgrade skrnn to load it."
        )
    from . import __version__

    if header.get("skrnn_version") != __version__:
        warnings.warn(
            f"{name!s} was saved with skrnn {header.get('skrnn_version')} and is "
            f"loaded with skrnn {__version__}; predictions may differ.",
            UserWarning,
            stacklevel=3,
        )


class SaveMixin:
    """Gives an estimator ``save(path)``; :func:`skrnn.load` reads it back.

    Inheriting it is also what registers an estimator for model files, under
    the stable name ``f"skrnn.{cls.__name__}"`` written in them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Only public classes of the skrnn package join: a class defined in a
        # test or by a user (or a private helper class of skrnn) inherits
        # ``save`` but is not registered, so its name can never replace skrnn's
        # class of the same name, and saving it says it is not registered. Two
        # public skrnn classes of one name are refused when the second is
        # defined (see _register).
        if _in_skrnn(cls) and not cls.__name__.startswith("_"):
            _register(_ESTIMATORS, f"skrnn.{cls.__name__}", cls)

    def save(self, path):
        """Save the estimator to a model file that runs no code when loaded.

        The file holds the hyperparameters, the fitted arrays, vocabularies and
        classes, and the optimizer and random state, so a loaded model predicts
        identically and continues training (``warm_start``, ``partial_fit``) as
        the original would. Load it with :func:`skrnn.load`.

        Parameters
        ----------
        path : str, os.PathLike or binary file object
            Where to write (the name is kept as given).
        """
        save(self, path)
