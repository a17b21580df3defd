"""Where the projects the docs link to publish their documentation (intersphinx targets).

Shared by docs/conf.py (which links a project only when its inventory is cached in docs/_intersphinx/)
and docs/_intersphinx/update.py (which writes or fetches those inventories).
"""

TARGETS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "ot": "https://pythonot.github.io/",
    "sklearn": "https://scikit-learn.org/stable/",
    "skfolio": "https://skfolio.org/",
    "polars": "https://docs.pola.rs/api/python/stable/",
    "dask": "https://docs.dask.org/en/stable/",
    "distributed": "https://distributed.dask.org/en/stable/",
}
