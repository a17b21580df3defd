"""Write the intersphinx inventories that docs/conf.py reads (the docs build never goes online).

    python docs/_intersphinx/update.py            # (re)write the minimal inventories below
    python docs/_intersphinx/update.py --fetch    # replace every inventory by the project's own

Where the files come from (see README.md beside this file):

* python, scipy, sklearn, dask, distributed: the projects' own ``objects.inv``
  as shipped in Debian's documentation packages (python3.11-doc,
  python-scipy-doc, python-sklearn-doc, python-dask-doc,
  python-distributed-doc); older versions than the ones installed, but the
  names the docs link to are the same.
* numpy, ot (POT), skfolio, polars: no such package; this script writes a
  *minimal* inventory with only the names the docs refer to, each at its
  page in the project's published layout. ``--fetch`` (with network) swaps
  them, and all others, for the full ones.
"""

from __future__ import annotations

import sys
import urllib.request
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _links import TARGETS  # noqa: E402

# name -> (project, version, url, [(object, role, relative uri)])
MINIMAL = {
    "numpy": ("NumPy", "2", "https://numpy.org/doc/stable/", [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#numpy.random.Generator"),
        ("numpy.random.default_rng", "py:function", "reference/random/generator.html#numpy.random.default_rng"),
        ("numpy.linalg.eigh", "py:function", "reference/generated/numpy.linalg.eigh.html#numpy.linalg.eigh"),
    ]),
    "ot": ("POT Python Optimal Transport", "0.9", "https://pythonot.github.io/", [
        ("ot.emd2", "py:function", "gen_modules/ot.html#ot.emd2"),
        ("ot.sinkhorn2", "py:function", "gen_modules/ot.html#ot.sinkhorn2"),
        ("ot.bregman.sinkhorn_log", "py:function", "gen_modules/ot.bregman.html#ot.bregman.sinkhorn_log"),
        ("ot.wasserstein_1d", "py:function", "gen_modules/ot.html#ot.wasserstein_1d"),
    ]),
    "skfolio": ("skfolio", "1.12", "https://skfolio.org/", [
        ("skfolio.optimization.MeanRisk", "py:class", "generated/skfolio.optimization.MeanRisk.html"),
        ("skfolio.optimization.EqualWeighted", "py:class", "generated/skfolio.optimization.EqualWeighted.html"),
        ("skfolio.optimization.InverseVolatility", "py:class",
         "generated/skfolio.optimization.InverseVolatility.html"),
        ("skfolio.optimization.HierarchicalRiskParity", "py:class",
         "generated/skfolio.optimization.HierarchicalRiskParity.html"),
        ("skfolio.model_selection.WalkForward", "py:class", "generated/skfolio.model_selection.WalkForward.html"),
        ("skfolio.prior.EmpiricalPrior", "py:class", "generated/skfolio.prior.EmpiricalPrior.html"),
    ]),
    "polars": ("Polars", "1", "https://docs.pola.rs/api/python/stable/", [
        ("polars.DataFrame", "py:class", "reference/api/polars.DataFrame.html"),
        ("polars.read_csv", "py:function", "reference/api/polars.read_csv.html"),
        ("polars.read_parquet", "py:function", "reference/api/polars.read_parquet.html"),
    ]),
}  # fmt: skip

FULL = TARGETS  # every project is fetched from where docs/conf.py links it


def write_minimal(name: str) -> Path:
    project, version, _, entries = MINIMAL[name]
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")  # fmt: skip
    body = "".join(f"{obj} {role} 1 {uri} -\n" for obj, role, uri in entries)
    path = HERE / f"{name}.inv"
    path.write_bytes(header.encode() + zlib.compress(body.encode()))
    return path


def fetch(name: str, url: str) -> Path:
    path = HERE / f"{name}.inv"
    with urllib.request.urlopen(url + "objects.inv", timeout=30) as response:  # noqa: S310 (fixed https URLs)
        path.write_bytes(response.read())
    return path


if __name__ == "__main__":
    if "--fetch" in sys.argv[1:]:
        for name, url in FULL.items():
            print("fetched", fetch(name, url))
    else:
        for name in MINIMAL:
            print("wrote", write_minimal(name))
