"""The one way to reach another package, and the one place that imports by name.

Feature packages meet only through each other's published contract: the ``services`` façade of
the package (``credit.services``, ``greenfin.lending.services``...). A package reads another with
``contract("credit")``, which gives that façade when the package is installed and loaded in this
app (``GREENFIN_FEATURES`` may narrow the list), or None: the caller then goes without (an
unrated party, no GEP figure). ``require`` is for a hard dependency (pools on lending).

Events go the other way, through ``greenfin.signals``: the sender announces, the receiving
package subscribes in its ``init_app``.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from types import ModuleType
from typing import Any, Callable, Optional

from flask import Flask, current_app

log = logging.getLogger(__name__)

# Feature packages, in dependency order. Each exposes ``init_app(app)``; the demo seed calls their
# ``seed_demo(rng)`` in the same order.
FEATURES = (
    "greenfin.core",
    "greenfin.auth",
    "credit",
    "greenfin.gep",
    "traceability",
    "greenfin.lending",
    "greenfin.insurance",  # before pools: the demo's payouts land in the servicer reports pools seeds
    "greenfin.pools",
    "greenfin.carbon",
    "greenfin.compensation",
    "greenfin.market",  # reads traceability, gep and credit through their contracts
)


def installed_features() -> list[ModuleType]:
    """The feature packages present, in order. ``GREENFIN_FEATURES`` (comma-separated) narrows the
    list, e.g. while one package is being developed beside another."""
    wanted = os.environ.get("GREENFIN_FEATURES")
    names = [n for n in FEATURES if not wanted or n in wanted.split(",")]
    modules = []
    for name in names:
        if importlib.util.find_spec(name) is not None:
            module = importlib.import_module(name)
            if hasattr(module, "init_app"):
                modules.append(module)
    return modules


def check_features(app: Flask) -> None:
    """Let each installed feature refuse a malformed setting (``check_config(config)``) before any
    extension or blueprint is set up, so a refused app leaves nothing half-built behind."""
    for feature in installed_features():
        check = getattr(feature, "check_config", None)
        if check is not None:
            check(app.config)


def load_features(app: Flask) -> None:
    """Initialise every installed feature package and remember which ones this app has."""
    loaded = []
    for feature in installed_features():
        feature.init_app(app)
        loaded.append(feature.__name__)
    app.extensions["greenfin_features"] = tuple(loaded)
    app.extensions["greenfin_contracts"] = {}


def loaded(package: str, app: Optional[Flask] = None) -> bool:
    app = app or current_app
    return package in app.extensions.get("greenfin_features", ())


def contract(package: str) -> Optional[ModuleType]:
    """The published services façade of ``package`` when it is loaded in this app, else None."""
    cache = current_app.extensions.setdefault("greenfin_contracts", {})
    if package not in cache:
        module = None
        if loaded(package):
            try:
                module = importlib.import_module(f"{package}.services")
            except ImportError:  # half-written or broken: the caller goes without it
                log.warning("%s.services could not be imported", package)
        cache[package] = module
    return cache[package]


def require(package: str) -> ModuleType:
    """The services façade of a package this one cannot work without."""
    module = contract(package)
    if module is None:
        raise RuntimeError(f"{package} is required but not loaded (GREENFIN_FEATURES)")
    return module


def resolve(dotted: str) -> Callable[..., Any]:
    """The function named ``package.module.function`` (job functions, CLI entry points)."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def import_module(name: str) -> ModuleType:
    """Import a module by name (a job's module checked when it is queued; a seed by package)."""
    return importlib.import_module(name)
