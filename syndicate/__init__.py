"""syndicate: a static site whose every syndicated copy carries the author's reprint statement."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

# The release's one version number: pyproject.toml reads it, `syndicate --version` shows it and
# `syndicate init` pins it in the files a new site deploys with.
__version__ = "0.1.0"
# The name the package index knows this tool by (the command and the import stay `syndicate`);
# it must equal pyproject.toml's [project] name, which a test checks.
DISTRIBUTION = "syndicate-ssg"

if TYPE_CHECKING:
    from .build import build
    from .config import load_site
    from .errors import Problem, SiteError

__all__ = ["DISTRIBUTION", "Problem", "SiteError", "__version__", "build", "load_site"]

# The public names are imported on first use, so that `syndicate --version` loads no pipeline.
_EXPORTS = {"build": ".build", "load_site": ".config", "Problem": ".errors", "SiteError": ".errors"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'syndicate' has no attribute {name!r}")


class _Package(types.ModuleType):
    """`syndicate.build` is the function, as it always was: importing the module of the same
    name must not put the module in its place."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not (name in _EXPORTS and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
