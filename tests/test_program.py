"""The program as a user runs it (`python -m syndicate`): exit codes and output survive its fast exit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .conftest import article


def program(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicate", *args], capture_output=True, text=True, cwd=cwd,
                          check=False, timeout=300)


def test_version_is_printed_in_full_through_a_pipe() -> None:
    done = program("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("syndicate ") and done.stdout.endswith(")\n")


def test_exit_codes_and_messages_of_usage_errors_and_site_problems(tmp_path: Path) -> None:
    usage = program("build", "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr
    missing = program("build", "--site", str(tmp_path / "site.yaml"))
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[-1] == "1 error, 0 warnings"


def test_a_build_writes_everything_before_the_program_exits(write_site: Callable[..., Path]) -> None:
    site_yaml = write_site({"content/first.md": article("First Post", body="One body."),
                            "content/second.md": article("Second Post", body="Two body.")})
    done = program("build", "--site", str(site_yaml), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("built 2 articles")
    page = site_yaml.parent / "output" / "articles" / "second" / "index.html"
    assert "Two body." in page.read_text("utf-8")
    again = program("build", "--site", str(site_yaml), "--jobs", "1")
    assert again.returncode == 0 and "0 written" in again.stderr  # the cache was closed and kept whole
