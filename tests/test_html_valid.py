"""The built example site is valid HTML5 by the Nu HTML Checker (npm `vnu-jar`, run with java).

Every page is checked, and so is every syndicated snippet (output/syndicate/*.html) once wrapped in
a minimal HTML5 page, as a newsletter or web page that pastes it would be. Skipped with a reason
when java or node_modules/vnu-jar is missing, unless SYNDICATE_BROWSER_REQUIRED=1.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .browser_support import VNU_JAR, build_example, missing, require_node_module, wrap_snippet


@pytest.fixture(scope="module")
def java() -> str:
    """The java that runs the checker; skips (or fails, when required) without java or vnu.jar."""
    found = shutil.which("java")
    if found is None:
        missing("java is not installed (apt-get install -y default-jre-headless); the Nu HTML Checker needs it")
    require_node_module(VNU_JAR)
    return found


@pytest.fixture(scope="module")
def example_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_example(tmp_path_factory.mktemp("html-valid") / "output")


def vnu(java: str, targets: list[Path]) -> list[dict[str, object]]:
    """Run the checker over files or folders; returns its error messages (empty when valid)."""
    command = [java, "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html", "--format", "json", *map(str, targets)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    # vnu writes its JSON report to stderr; exit status 1 means "errors found".
    report_text = result.stderr.strip() or result.stdout.strip()
    try:
        report = json.loads(report_text)
    except json.JSONDecodeError:
        pytest.fail(f"vnu did not produce a JSON report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    messages = [m for m in report.get("messages", []) if m.get("type") in ("error", "non-document-error")]
    if result.returncode not in (0, 1) or (result.returncode == 1 and not messages):
        pytest.fail(f"vnu failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return messages


def describe(messages: list[dict[str, object]], root: Path) -> str:
    lines = []
    for m in messages:
        url = str(m.get("url", "")).removeprefix("file:")
        try:
            where = Path(url).relative_to(root).as_posix()
        except ValueError:
            where = url
        extract = " ".join(str(m.get("extract", "")).split())[:160]
        lines.append(f"{where}:{m.get('lastLine', '?')}:{m.get('firstColumn', '?')}: {m.get('message')}\n    {extract}")
    return "\n".join(lines)


def test_every_page_and_wrapped_snippet_is_valid_html(java: str, example_output: Path, tmp_path: Path) -> None:

    # The site's pages: everything but the snippets, which are fragments by design.
    site_copy = tmp_path / "site"
    shutil.copytree(example_output, site_copy, ignore=lambda folder, names: ["syndicate"] if Path(folder) == example_output else [])
    (site_copy / "syndicate").mkdir()
    shutil.copy2(example_output / "syndicate" / "index.html", site_copy / "syndicate" / "index.html")  # the catalogue is a page
    # Newsletter e-mails are e-mail documents, not web pages: checked apart, below.
    emails = tmp_path / "emails"
    for email_html in sorted(site_copy.glob("newsletter/*/email.html")):
        (emails / email_html.parent.name).mkdir(parents=True)
        email_html.rename(emails / email_html.parent.name / "email.html")
    assert len(list(emails.rglob("*.html"))) == 2, "the example site has two newsletter issues"
    pages = sorted(site_copy.rglob("*.html"))
    assert len(pages) >= 10, f"expected the example site's pages, found {len(pages)}"

    snippets = sorted(p for p in (example_output / "syndicate").glob("*.html") if p.name != "index.html")  # index.html: the catalogue
    assert snippets, "the example site should have at least one syndicated HTML snippet"
    wrapped = tmp_path / "wrapped-snippets"
    wrapped.mkdir()
    for snippet in snippets:
        (wrapped / snippet.name).write_text(wrap_snippet(snippet.read_text(encoding="utf-8"), snippet.stem), encoding="utf-8")

    # One JVM for all: its start-up dominates the run.
    messages = vnu(java, [site_copy, wrapped, emails])
    messages = [m for m in messages if not ("/emails/" in str(m.get("url")) and _EMAIL_CONVENTION.search(str(m.get("message"))))]
    assert not messages, f"{len(messages)} HTML error(s) from the Nu HTML Checker:\n{describe(messages, tmp_path)}"


# What an e-mail needs and a web page would not have: Outlook's namespaces and mso- styles, Apple
# Mail's reformatting switch (a meta without content), and the sending service's placeholder as
# the unsubscribe link. Anything else in an e-mail is an error like on any page.
_EMAIL_CONVENTION = re.compile(
    r"Attribute “xmlns:[vo]” not allowed|CSS: “mso-[a-z-]+”: Property “mso-[a-z-]+” doesn't exist"
    r"|Element “meta” is missing one or more of the following attributes: “content”, “property”"
    r"|Bad value “\{\{ unsubscribe_url \}\}” for attribute “href”")


def test_the_checker_catches_errors(java: str, tmp_path: Path) -> None:
    """Guard against a checker that silently checks nothing: an invalid page must be reported."""
    (tmp_path / "bad.html").write_text("<!DOCTYPE html><html lang=en><head><title>x</title></head><body><p><div></p>", encoding="utf-8")
    (tmp_path / "good.html").write_text(wrap_snippet("<p>fine</p>"), encoding="utf-8")
    messages = vnu(java, [tmp_path])
    assert messages, "vnu reported no error for a page with a stray </p>"
    assert all("bad.html" in str(m.get("url")) for m in messages), describe(messages, tmp_path)
