"""Which packages get a page of the API reference: shared by docs/conf.py and tests/test_docs.py."""

from __future__ import annotations

import importlib
import pkgutil

import meanfolio


def public_packages() -> list[str]:
    """meanfolio and every subpackage of it that declares ``__all__``, except the sub-rooms of a package
    (e.g. ``meanfolio.mfg.couplings``) whose names the parent re-exports: they are documented there."""
    names = ["meanfolio"]
    for info in pkgutil.walk_packages(meanfolio.__path__, "meanfolio."):
        if info.ispkg and not any(part.startswith("_") for part in info.name.split(".")):
            module = importlib.import_module(info.name)
            if not hasattr(module, "__all__"):
                continue
            parent = importlib.import_module(info.name.rsplit(".", 1)[0])
            if info.name.count(".") > 1 and set(module.__all__) <= set(getattr(parent, "__all__", ())):
                continue
            names.append(info.name)
    return names
