"""A package's public names, imported from their submodules on first use (PEP 562).

``ecfusion.warehouse`` re-exports ``run`` from its pipeline, which imports DuckDB, the mappings,
the region table and more. A command that only reads a snapshot (``ecfusion warehouse status``),
or only prints help, would pay for all of it on start if the package imported its submodules
eagerly. A package instead writes::

    if TYPE_CHECKING:  # what readers and mypy see; at run time each name is imported on first use
        from ecfusion.warehouse.pipeline import run

    __all__ = ["run"]
    __getattr__, __dir__ = lazy_exports(globals(), {"pipeline": ["run"]})

``tests/test_lazy_exports.py`` checks that each such package's ``__all__`` and map name the same
things, and that each name is its submodule's.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], modules: dict[str, list[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package whose ``globals()`` is ``namespace``:
    ``modules`` maps a submodule's name to the names it gives the package. A name, once imported,
    is kept in the package, so the lookup happens once.

    A name may not also be a submodule's (``resolve.explain`` is both): importing that submodule
    sets the package's attribute to the module, which would then shadow the lazy name."""
    package = namespace["__name__"]
    home = {name: module for module, names in modules.items() for name in names}
    shadowed = [name for name in home if importlib.util.find_spec(f"{package}.{name}") is not None]
    if shadowed:
        raise ImportError(f"{package}: {', '.join(shadowed)} also name submodules; import them eagerly")

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(home))

    return __getattr__, __dir__
