"""syndicate: a static site whose every syndicated copy carries the author's reprint statement."""

# The release's one version number: pyproject.toml reads it, `syndicate --version` shows it and
# `syndicate init` pins it in the files a new site deploys with.
__version__ = "0.1.0"
# The name the package index knows this tool by (the command and the import stay `syndicate`);
# it must equal pyproject.toml's [project] name, which a test checks.
DISTRIBUTION = "syndicate-ssg"

from .build import build  # noqa: E402
from .config import load_site  # noqa: E402
from .errors import Problem, SiteError  # noqa: E402

__all__ = ["DISTRIBUTION", "Problem", "SiteError", "__version__", "build", "load_site"]
