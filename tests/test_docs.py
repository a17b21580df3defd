"""Checks of the built documentation site (``make docs`` runs them after building it).

They read ``docs/_build/html`` (or ``$MEANFOLIO_DOCS_HTML``) and skip unless
``MEANFOLIO_DOCS_BUILT=1`` says the site was just built: a stale site left
from an older build must not fail ``make test``.

* every name in the ``__all__`` of meanfolio and of each public subpackage is
  an object of the API reference (read from ``objects.inv``);
* every gallery example (``examples/plot_*.py``) ran and produced its figure;
* every internal link and anchor of the site resolves.
"""

from __future__ import annotations

import importlib
import os
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / os.environ.get("MEANFOLIO_DOCS_HTML", "docs/_build/html")
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
sys.path.insert(0, str(ROOT / "docs"))
from _api_packages import public_packages  # noqa: E402 (the rule docs/conf.py uses)

pytestmark = pytest.mark.skipif(
    os.environ.get("MEANFOLIO_DOCS_BUILT") != "1" or not (HTML / "objects.inv").exists(),
    reason="the docs were not just built (make docs sets MEANFOLIO_DOCS_BUILT=1)",
)


def documented_objects() -> set[str]:
    from sphinx.util.inventory import InventoryFile

    with open(HTML / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    names: set[str] = set()
    for role, entries in inventory.items():
        if role.startswith("py:"):
            names.update(entries)
    return names


def test_every_public_name_is_in_the_api_reference():
    documented = documented_objects()
    packages = public_packages()
    assert {"meanfolio", "meanfolio.mfg", "meanfolio.games", "meanfolio.backtest"} <= set(packages)
    missing = [f"{p}.{name}" for p in packages for name in importlib.import_module(p).__all__
               if f"{p}.{name}" not in documented]  # fmt: skip
    assert not missing, f"public names missing from objects.inv: {missing}"
    for package in packages:
        assert package in documented, package  # the package's own page (py:module)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_gallery_example_ran_and_made_its_figure(example):
    assert len(EXAMPLES) >= 15
    page = HTML / "auto_examples" / f"{example.stem}.html"
    assert page.exists(), f"{example.name} has no gallery page"
    if os.environ.get("MEANFOLIO_DOCS_GALLERY") == "0":
        pytest.skip("the site was built without running the examples (make docs-fast)")
    images = sorted((HTML / "_images").glob(f"sphx_glr_{example.stem}_[0-9][0-9][0-9].png"))
    assert images, f"{example.name} produced no figure"
    assert all(p.stat().st_size > 5000 for p in images), [(p.name, p.stat().st_size) for p in images]
    html = page.read_text()
    assert all(p.name in html for p in images), "a figure is not on the example's page"
    assert "Traceback (most recent call last)" not in html, f"{example.name} raised"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and key == "href" and a.get("rel") == "preconnect"):
                self.links.append(a[key])


def _parse(path: Path, cache: dict[Path, _Links]) -> _Links:
    if path not in cache:
        parser = _Links()
        parser.feed(path.read_text(errors="replace"))
        cache[path] = parser
    return cache[path]


def test_internal_links_resolve():
    pages = sorted(HTML.rglob("*.html"))
    assert len(pages) > 50
    cache: dict[Path, _Links] = {}
    broken = []
    for page in pages:
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        for link in _parse(page, cache).links:
            parsed = urlparse(link)
            if parsed.scheme or link.startswith(("//", "mailto:", "javascript:", "data:")):
                continue
            target, fragment = urldefrag(link)
            target = urlparse(target).path  # without a ?query (the theme's cache busting)
            target_path = (page.parent / unquote(target)).resolve() if target else page
            if target_path.is_dir():
                target_path = target_path / "index.html"
            if not target_path.exists():
                broken.append((str(page.relative_to(HTML)), link))
                continue
            if fragment and target_path.suffix == ".html":
                if unquote(fragment) not in _parse(target_path, cache).ids:
                    broken.append((str(page.relative_to(HTML)), link))
    assert not broken, f"{len(broken)} broken internal links, e.g. {broken[:10]}"
