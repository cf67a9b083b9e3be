"""syndicate: a static site whose every syndicated copy carries the author's reprint statement."""

__version__ = "0.1.0"

from .build import build  # noqa: E402
from .config import load_site  # noqa: E402
from .errors import Problem, SiteError  # noqa: E402

__all__ = ["Problem", "SiteError", "__version__", "build", "load_site"]
