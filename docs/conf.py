"""Sphinx configuration of the skrnn documentation.

Build (from the repository root, with ``pip install -e ".[docs]"``)::

    make -C docs html
    # or: python -m sphinx -W --keep-going -b html docs docs/_build/html

The build is offline and deterministic: no intersphinx (the inventories would be
fetched from the network), and the gallery examples run on seeded synthetic data
(``plot_compare_taggers.py`` adds a small UD EWT comparison only when
``SKRNN_DATA_DIR`` is set).
"""

import re
import warnings
from pathlib import Path

import skrnn

HERE = Path(__file__).resolve().parent

project = "skrnn"
author = "the skrnn developers"
copyright = "the skrnn developers"
release = skrnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Serves MathJax from _static instead of a CDN: the pages' formulas render
    # without network access too (sphinx-mathjax-offline ships MathJax 3).
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # The narrative pages (user guide, benchmarks, design) are Markdown; myst-parser
    # reads them as they are, so they stay readable on GitHub too.
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery's inputs; the rendered pages are in auto_examples/.
    "examples",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]

# -- MyST ---------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # [text](#a-heading) links within and across pages
# A jump from # to ### is a matter of style in pages written for GitHub too (several
# authors edit them); a missing link target is not, and stays an error.
suppress_warnings = ["myst.header"]

# -- autodoc / autosummary / numpydoc --------------------------------------------
autosummary_generate = True
autosummary_imported_members = True  # skrnn re-exports its estimators
autosummary_ignore_module_all = False  # a module's members are its __all__
autodoc_typehints = "none"  # the numpydoc sections say the types
add_module_names = False

# The class pages list each method under its own heading (the autosummary class
# template), so numpydoc's member tables would only repeat them.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Checked on every build (-W makes a failure fatal): every public function and method
# has a docstring whose sections exist, parse and document exactly its parameters.
# Punctuation and style checks (RT02 would forbid scikit-learn's named returns, EX01
# asks for an example in every method, PR09/SS06 are about full stops and line
# breaks) are left out: they would fail builds on wording, not on wrong docs.
numpydoc_validation_checks = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "GL09",  # deprecation warning not first
    "GL10",  # bad reST directive syntax
    "PR01",  # a parameter is not documented
    "PR02",  # a documented parameter does not exist
    "PR03",  # parameters in the wrong order
    "PR04",  # a parameter has no type
    "PR10",  # "x: int" instead of "x : int"
    "RT01",  # no Returns section
    "SS01",  # no summary
    "YD01",  # no Yields section
}
numpydoc_validation_exclude = {
    # scikit-learn's own methods, inherited unchanged: not ours to check.
    r"\.get_params$",
    r"\.set_params$",
    r"\.fit_transform$",
    r"\.fit_predict$",
    r"\.set_output$",
    r"\.__init__$",
    # Scorer objects: their docstring is written by _scorer_doc below.
    r"_scorer$",
}

# -- sphinx-gallery -------------------------------------------------------------
warnings.filterwarnings(
    "ignore", "Matplotlib is currently using agg", category=UserWarning
)
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    # Every example is executed by every build.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # No thumbnails from the network, no binder/jupyterlite links.
    "reference_url": {},
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
}

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skrnn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_last_updated_fmt = None  # no build date: the same sources give the same pages


# -- Pages that other work adds -------------------------------------------------
# These pages are written alongside the docs site; the index's toctree lists each one
# that exists, so adding one needs no edit here (and a missing one breaks nothing).
OPTIONAL_PAGES = ["model_files", "parallel"]
OPTIONAL_MARK = "   .. optional-pages\n"


def _optional_pages(app, docname, source):
    if docname != "index":
        return
    present = [name for name in OPTIONAL_PAGES if (HERE / f"{name}.md").exists()]
    lines = "".join(f"   {name}\n" for name in present)
    source[0] = source[0].replace(OPTIONAL_MARK, lines)


# -- Scorer objects -------------------------------------------------------------
# skrnn.metrics exports ready scorers (make_scorer objects); their own __doc__ is
# scikit-learn's _Scorer class docstring, so say what each one is instead.
def _scorer_doc(app, what, name, obj, options, lines):
    if what != "data" or not re.match(r"make_scorer\(", repr(obj)):
        return
    func = re.match(r"make_scorer\((\w+)(.*)\)", repr(obj))
    kwargs = func.group(2).lstrip(", ")
    call = f"``{func.group(1)}``" + (f" with ``{kwargs}``" if kwargs else "")
    lines[:] = [
        f"Scorer for ``scoring=``: {call} on the estimator's ``predict``.",
        "",
        f"``{repr(obj)}``: greater is better. Pass it as ``scoring=`` to",
        ":func:`~sklearn.model_selection.cross_val_score` or",
        ":class:`~sklearn.model_selection.GridSearchCV`.",
    ]


# -- Members not to document ----------------------------------------------------
# scikit-learn's metadata-routing plumbing (set_fit_request, ...) is generated per
# class and its docstrings link to scikit-learn's own user guide.
def _skip_member(app, what, name, obj, skip, options):
    if name == "get_metadata_routing" or re.fullmatch(r"set_\w+_request", name):
        return True
    return skip


# -- Docstrings inherited from scikit-learn ------------------------------------
# ClassifierMixin.score, set_output, ... link to labels of scikit-learn's own user
# guide; without intersphinx (offline build) those are kept as plain text.
_REF = re.compile(r":ref:`([^`<]*?)\s*(?:<[^`>]*>)?`")


def _sklearn_refs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("sklearn"):
        lines[:] = [_REF.sub(lambda m: m.group(1), line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _sklearn_refs, priority=400)
    app.connect("source-read", _optional_pages)
    app.connect("autodoc-process-docstring", _scorer_doc, priority=400)
    app.connect("autodoc-skip-member", _skip_member)
