"""Package namespaces that load their members on first use.

``import wikicore`` must stay cheap: pydantic's model building, GitPython,
requests and aiohttp cost 0.1-0.2 s each, and ``wikicore --help``, ``--version``
or slug completion need none of them (commands start in <= 0.3 s CPU). A
package lists its public names once, each with the submodule that defines it,
and this module turns that table into a module-level ``__getattr__`` (PEP 562).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``table[name]`` (a submodule) on first use.

    The value is cached in the package's namespace, so each name costs one
    import and later look-ups are ordinary attribute reads.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{module}", package), name)
        import sys

        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
