"""Sphinx configuration of the meanfolio documentation (``make docs``).

The build is offline: the intersphinx inventories are read from
``docs/_intersphinx/`` (see the README there), MathJax is only loaded by the
reader's browser. Three kinds of pages are generated at build time and are not
kept in git:

* ``api/meanfolio.<package>.rst``: one page per public package, an autosummary
  of every name in the package's ``__all__`` (so a new public name appears in
  the reference without editing the docs; ``tests/test_docs.py`` checks it);
* ``_generated/benchmarks.md``: the tables of ``benchmarks/results/*.json``;
* ``auto_examples/``: the sphinx-gallery pages of ``examples/plot_*.py``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import pkgutil
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

import meanfolio  # noqa: E402

sys.path.insert(0, str(DOCS))
from _api_packages import public_packages  # noqa: E402
from _links import TARGETS  # noqa: E402

project = "meanfolio"
author = "the meanfolio developers"
copyright = "the meanfolio developers, BSD-3-Clause"  # noqa: A001
release = meanfolio.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

# The documents. docs/kinetic.md (the kinetic model's findings, written with its
# figures next to it) is pulled into guide/kinetic.md by the source-read hook
# below; the older top-level pages are included into the guide the same way.
exclude_patterns = ["_build", "_intersphinx", "_generated", "kinetic.md", "backtest.md", "games/*.md", "**/README.md",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]  # fmt: skip
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]

# -- MyST ---------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": False}
autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
add_module_names = False

# -- intersphinx (offline: cached inventories) ----------------------------------
# A project is linked only when its inventory is in docs/_intersphinx/ (see its README): nothing is
# fetched at build time, so the build works offline and a missing file cannot fail it.
_INV = DOCS / "_intersphinx"
intersphinx_mapping = {
    name: (url, str(_INV / f"{name}.inv")) for name, url in TARGETS.items() if (_INV / f"{name}.inv").exists()
}
intersphinx_timeout = 5

# -- sphinx-gallery --------------------------------------------------------------
_GALLERY_RUN = os.environ.get("MEANFOLIO_DOCS_GALLERY", "1") != "0"
# A build without running the examples rewrites auto_examples/ without figures, and sphinx-gallery
# would not rerun an unchanged example later: mark such a tree, and start afresh from a marked one.
_NOT_RUN = DOCS / "auto_examples" / ".not-executed"
if _GALLERY_RUN and _NOT_RUN.exists():
    shutil.rmtree(DOCS / "auto_examples")
elif not _GALLERY_RUN:
    _NOT_RUN.parent.mkdir(exist_ok=True)
    _NOT_RUN.touch()
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    # Only examples/plot_*.py make the gallery; the other scripts in examples/ are
    # command-line companions of the guide (allocation_game.py, ...).
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"^(?!plot_).*\.py$",
    "plot_gallery": "True" if _GALLERY_RUN else "False",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 0,
    "doc_module": ("meanfolio",),
    "reference_url": {"meanfolio": None},
    "backreferences_dir": None,
    "default_thumb_file": None,
    "capture_repr": (),
    "first_notebook_cell": None,
}

# MathJax is loaded by the reader's browser (from its CDN by default). To read the site offline,
# point MEANFOLIO_DOCS_MATHJAX at a local MathJax 3 (its tex-chtml.js) when building; MathJax 2
# (e.g. Debian's libjs-mathjax) does not read Sphinx's MathJax 3 configuration.
if os.environ.get("MEANFOLIO_DOCS_MATHJAX"):
    mathjax_path = os.environ["MEANFOLIO_DOCS_MATHJAX"]

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"meanfolio {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None

# Warnings are errors (make docs runs sphinx-build -W) and no warning class is suppressed. The
# docstrings' plain-text spellings that RST misreads are normalised instead (see below).
suppress_warnings: list[str] = []


# -- generated pages ------------------------------------------------------------
PACKAGES = public_packages()


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _api_pages() -> None:
    """One reference page per package: its docstring and an autosummary of its ``__all__``."""
    top = ["meanfolio", "=========", "", ".. automodule:: meanfolio", "   :no-members:", "",
           "The names most users need, re-exported from their packages (documented there).", ""]
    for public in sorted(meanfolio.__all__, key=str.lower):
        obj = getattr(meanfolio, public)
        if public == "__version__":
            top += [f".. py:data:: {public}", "", f"   The package version, ``{obj!r}``.", ""]
            continue
        home = f"{obj.__module__.rsplit('.', 1)[0]}.{public}" if obj.__module__.count(".") > 1 else obj.__module__
        kind = "class" if isinstance(obj, type) else "function"
        top += [f".. py:{kind}:: {public}", "",
                f"   Re-export of :{'class' if kind == 'class' else 'func'}:`{home}`.", ""]
    _write_if_changed(DOCS / "api" / "meanfolio.rst", "\n".join(top))
    for name in PACKAGES[1:]:
        module = importlib.import_module(name)
        title = f"``{name}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {name}", "   :no-members:", "",
                 f".. currentmodule:: {name}", ""]  # fmt: skip
        groups: dict[str, list[str]] = {"Classes": [], "Functions": [], "Constants": []}
        for public in sorted(module.__all__, key=str.lower):
            obj = getattr(module, public)
            if isinstance(obj, type):
                groups["Classes"].append(public)
            elif callable(obj):
                groups["Functions"].append(public)
            else:
                groups["Constants"].append(public)
        for group, names in groups.items():
            if not names:
                continue
            lines += [group, "-" * len(group), "", ".. autosummary::", "   :toctree: generated/",
                      "   :nosignatures:", ""]  # fmt: skip
            lines += [f"   {n}" for n in names] + [""]
        _write_if_changed(DOCS / "api" / f"{name}.rst", "\n".join(lines))
    # autosummary never deletes a stub: drop those of names that left an __all__ (else "not in any toctree")
    expected = {f"{p}.{n}.rst" for p in PACKAGES[1:] for n in importlib.import_module(p).__all__}
    for stub in (DOCS / "api" / "generated").glob("*.rst"):
        if stub.name not in expected:
            stub.unlink()
    for page in (DOCS / "api").glob("meanfolio*.rst"):
        if page.stem not in PACKAGES:
            page.unlink()


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value).replace("|", "\\|")


def _benchmark_tables() -> None:
    """Markdown tables of benchmarks/results/*.json (rows with a ``case``), generated at build time."""
    out = ["<!-- generated by docs/conf.py from benchmarks/results/*.json; do not edit -->", ""]
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        data = json.loads(path.read_text())
        rows = data.get("rows") if isinstance(data, dict) else None
        if not rows:
            continue
        name = data.get("name", path.stem)
        script = f"benchmarks/{name}.py"
        if not (ROOT / script).exists():
            script = "the script in benchmarks/ that names it"
        out += [f"### `{path.stem}`", "", f"From `benchmarks/results/{path.name}`, written by `{script}`.", ""]
        keys = ["case", "ours_s", "baseline_s", "ratio"]
        extra = []
        for row in rows:
            extra += [k for k in row if k not in keys and k not in extra]
        cols = keys + extra[:6]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for row in rows:
            out.append("| " + " | ".join(_fmt(row.get(c)) for c in cols) + " |")
        if len(extra) > 6:
            out += ["", "Further columns in the JSON file: " + ", ".join(f"`{k}`" for k in extra[6:]) + "."]
        out.append("")
    _write_if_changed(DOCS / "_generated" / "benchmarks.md", "\n".join(out))


_api_pages()
_benchmark_tables()

# Pages that pull in a markdown file kept elsewhere in docs/ (it stays the one
# copy: the engineers who own it edit it in place). Missing files get a note.
INCLUDES = {"guide/kinetic": "kinetic.md"}


# -- docstrings written as plain text ---------------------------------------------
# Several docstrings write absolute values and norms as |p|, which reStructuredText
# reads as the start of a substitution (an error under -W), and one starts a bullet
# list without the blank line RST needs. Rather than silencing docutils as a whole,
# those two spellings are normalised when the docstring is read: a bare "|" outside
# inline code, roles and literal/math blocks is escaped, and a blank line is put
# before a bullet that follows a paragraph line. Nothing else is changed, and the
# source docstrings are listed in the report of issue 20 for a proper fix.
_INLINE = re.compile(r"(:[a-z:]+:`[^`]*`|``[^`]*``|`[^`]*`_?)")
_BULLET = re.compile(r"^\s*\* \S")  # "- " is too often a minus sign in these docstrings


def _escape_bars(line: str) -> str:
    parts = _INLINE.split(line)
    for i in range(0, len(parts), 2):  # even parts are outside inline markup
        parts[i] = re.sub(r"(?<!\\)\|", r"\\|", parts[i])
    return "".join(parts)


def fix_plain_text_docstring(lines: list[str]) -> list[str]:
    out: list[str] = []
    block_indent: int | None = None  # indentation of the line that opened a literal/math block
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and stripped and indent <= block_indent:
            block_indent = None
        if block_indent is None:
            if _BULLET.match(line) and out and out[-1].strip() and not _BULLET.match(out[-1]) \
                    and len(out[-1]) - len(out[-1].lstrip()) == indent:
                out.append("")
            if stripped.endswith("::") or stripped.startswith(".. "):
                block_indent = indent
                out.append(line)
                continue
            out.append(_escape_bars(line))
        else:
            out.append(line)
    return out


def _constant_comment(name: str) -> list[str] | None:
    """The ``#:`` comment of a package constant, read in the submodule that defines it.

    A constant re-exported by a package (``meanfolio.backtest.STRATEGIES``) has no docstring of its own:
    autodoc would show its type's (the tuple's). Its ``#:`` comment sits in the defining submodule.
    """
    from sphinx.pycode import ModuleAnalyzer

    package, _, attr = name.rpartition(".")
    module = importlib.import_module(package)
    submodules = pkgutil.iter_modules(getattr(module, "__path__", []))
    candidates = [package] + [f"{package}.{info.name}" for info in submodules]
    for candidate in candidates:
        try:
            comments = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except Exception:  # noqa: BLE001 - a module without source: no comment
            continue
        if ("", attr) in comments:
            return list(comments[("", attr)])
    return None


def _process_docstring(app, what, name, obj, options, lines):  # noqa: ANN001
    if not name.startswith("meanfolio"):
        return
    if what == "data":
        comment = _constant_comment(name)
        own = getattr(obj, "__doc__", None)
        if comment and (not lines or own is None or own == getattr(type(obj), "__doc__", None)):
            lines[:] = comment
    lines[:] = fix_plain_text_docstring(lines)


def _source_read(app, docname, source):  # noqa: ANN001
    target = INCLUDES.get(docname)
    if target is None:
        return
    if (DOCS / target).exists():
        source[0] += f"\n\n```{{include}} ../{target}\n:relative-images:\n:heading-offset: 2\n```\n"
    else:
        source[0] += f"\n\n```{{note}}\nThe detailed page `docs/{target}` is not in this checkout yet.\n```\n"


def setup(app):  # noqa: ANN001, ANN201
    app.connect("source-read", _source_read)
    # priority < 500: before numpydoc parses the sections
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
