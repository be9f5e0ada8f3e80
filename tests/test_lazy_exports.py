"""The packages whose public names load on first use (``ecfusion._lazy``) export what they say:
the names under ``if TYPE_CHECKING`` (what mypy and a reader see), ``__all__`` and the names the
package hands out at run time are the same, each the very object of its submodule."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import ecfusion
from ecfusion._lazy import lazy_exports

LAZY = [
    f"ecfusion.{m.name}"
    for m in pkgutil.iter_modules(ecfusion.__path__)
    if m.ispkg and "lazy_exports(" in (Path(ecfusion.__path__[0]) / m.name / "__init__.py").read_text()
]


def _type_checking_imports(package: str) -> dict[str, str]:
    """name → the submodule the package's ``if TYPE_CHECKING:`` block imports it from."""
    tree = ast.parse(Path(importlib.import_module(package).__file__ or "").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {a.name: n.module or "" for n in block.body if isinstance(n, ast.ImportFrom) for a in n.names}


def test_the_lazy_packages_are_found() -> None:
    assert {"ecfusion.warehouse", "ecfusion.lake"} <= set(LAZY)


@pytest.mark.parametrize("package", LAZY)
def test_a_lazy_package_exports_what_it_declares(package: str) -> None:
    module = importlib.import_module(package)
    declared = _type_checking_imports(package)
    assert sorted(declared) == sorted(module.__all__)
    for name, home in declared.items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name), name
        assert name in dir(module)
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


def test_a_name_that_is_also_a_submodule_is_refused() -> None:
    # ecfusion.resolve.explain is a function and a submodule: importing the submodule would
    # replace the lazy function by the module in the package
    with pytest.raises(ImportError, match="explain also name submodules"):
        lazy_exports({"__name__": "ecfusion.resolve"}, {"explain": ["explain"]})
