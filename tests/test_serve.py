"""The preview server over real loopback HTTP: serving, live reload, errors, containment."""

from __future__ import annotations

import http.client
import io
import json
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path

import lxml.html
import pytest

from syndicate import serve
from syndicate.serve import EVENTS_PATH, BuildState, PreviewServer, inject_client

from .conftest import article

DEADLINE = 10.0  # seconds: generous for a slow CI machine; a passing test returns far sooner
MARKER = b'data-syndicate="live-reload"'


@pytest.fixture
def site_file(write_site: Callable[..., Path]) -> Path:
    return write_site({
        "content/first.md": article("First Light", body="The original words.", aliases="[/old-first/]"),
        "content/sketch.md": article("Rough Sketch", draft="true", body="Not ready."),
        "content/later.md": article("Later Words", date="2099-01-01", body="Not yet."),
        "content/pages/about.md": '---\ntitle: "About"\n---\nAbout us.\n',
    })


@pytest.fixture
def server(site_file: Path) -> Iterator[PreviewServer]:
    lines: list[str] = []
    preview = PreviewServer(site_file, port=0, echo=lines.append)
    preview.start()
    try:
        yield preview
    finally:
        preview.stop()


def get(server: PreviewServer, path: str) -> tuple[int, bytes]:
    """A raw GET: http.client sends the path exactly as written (no dot-segment cleanup)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")


class EventStream:
    """Reads `event: build` messages from the SSE endpoint, each wait bounded."""

    def __init__(self, server: PreviewServer) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
        self.connection.request("GET", EVENTS_PATH)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")

    def next_build(self) -> dict[str, object]:
        while True:
            line = self.response.readline()
            assert line, "event stream closed"
            if line.startswith(b"data: "):
                return json.loads(line[6:])  # type: ignore[no-any-return]

    def until(self, condition: Callable[[dict[str, object]], bool]) -> dict[str, object]:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            state = self.next_build()
            if condition(state):
                return state
        raise AssertionError("no matching build event")

    def close(self) -> None:
        self.connection.close()


def test_serves_pages_with_the_client_injected_but_never_on_disk(server: PreviewServer, site_file: Path) -> None:
    status, body = get(server, "/")
    assert status == 200
    assert b"First Light" in body
    assert body.count(MARKER) == 1
    assert body.index(MARKER) < body.rindex(b"</body>")
    on_disk = server.folder / "index.html"
    assert MARKER not in on_disk.read_bytes()
    assert all(MARKER not in p.read_bytes() for p in server.folder.rglob("*.html"))


def test_builds_drafts_marked_into_its_own_folder(server: PreviewServer, site_file: Path) -> None:
    status, body = get(server, "/articles/sketch/")
    assert status == 200
    assert b"Draft" in body
    status, body = get(server, "/articles/later/")  # dated in the future: in the preview, marked
    assert status == 200
    heading = lxml.html.fromstring(body).find(".//h1")
    assert heading is not None and heading.findtext("span[@class='badge']") == "Draft"
    assert server.folder == site_file.parent / ".syndicate-cache" / "serve"
    assert not (site_file.parent / "output").exists()


def test_an_old_address_redirects_within_the_preview(server: PreviewServer) -> None:
    """A redirect page links absolutely to the site; the preview maps that to itself."""
    status, body = get(server, "/old-first/")
    assert status == 200
    page = lxml.html.fromstring(body)
    assert page.find(".//meta[@http-equiv='refresh']").get("content") == "0; url=/articles/first/"
    assert page.find(".//body//a").get("href") == "/articles/first/"


def test_folder_urls_serve_index_and_redirect_without_slash(server: PreviewServer) -> None:
    status, _ = get(server, "/articles/first")
    assert status == 301
    with urllib.request.urlopen(f"{server.url}articles/first", timeout=DEADLINE) as response:
        assert response.url.endswith("/articles/first/")
        assert b"The original words." in response.read()
    status, body = get(server, "/feed.xml")
    assert status == 200 and MARKER not in body


def test_unknown_path_gets_the_404_page(server: PreviewServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.url}no/such/page/", timeout=DEADLINE)
    assert caught.value.code == 404
    body = caught.value.read()
    assert b"Page not found" in body and MARKER in body
    assert b'href="https://scratch.example.org/' not in body  # links lead to the preview


@pytest.mark.parametrize("path", [
    "/../site.yaml", "/%2e%2e/site.yaml", "/%2E%2E%2Fsite.yaml", "/articles/..%2f..%2f..%2fsite.yaml",
    "/..%5c..%5csite.yaml", "/.syndicate-output", "/%00index.html", "/escape/site.yaml", "/outside.html",
], ids=["dot-dot", "encoded", "encoded-slash", "nested", "backslash", "dotfile", "nul", "symlinked-folder", "symlink"])
def test_nothing_outside_the_preview_folder_is_served(server: PreviewServer, site_file: Path, path: str) -> None:
    (server.folder / "escape").symlink_to(site_file.parent, target_is_directory=True)
    (server.folder / "outside.html").symlink_to(site_file)
    status, body = get(server, path)
    assert status == 404
    assert b"authors:" not in body


def test_an_edit_is_served_within_seconds(server: PreviewServer, site_file: Path) -> None:
    edit(site_file.parent / "content" / "first.md", "The original words.", "The revised words.")
    wait_until(lambda: b"The revised words." in get(server, "/articles/first/")[1])


def test_a_broken_edit_shows_its_problem_and_a_fix_recovers(server: PreviewServer, site_file: Path) -> None:
    events = EventStream(server)
    try:
        first = events.next_build()
        assert first["ok"] is True
        source = site_file.parent / "content" / "first.md"
        edit(source, "author: ann", "author: nobody")
        broken = events.until(lambda s: s["ok"] is False)
        problem = "content/first.md:4: unknown author 'nobody' (known: ann)"
        assert broken["problems"] == [problem]
        status, body = get(server, "/articles/first/")  # the last good page, with the overlay's problems
        assert status == 200 and b"The original words." in body
        assert b"unknown author 'nobody'" in body
        edit(source, "author: nobody", "author: ann")
        edit(source, "The original words.", "Fixed words.")
        fixed = events.until(lambda s: s["ok"] is True)
        assert fixed["generation"] > broken["generation"]  # type: ignore[operator]
        wait_until(lambda: b"Fixed words." in get(server, "/articles/first/")[1])
        assert b"unknown author" not in get(server, "/articles/first/")[1]
    finally:
        events.close()


def test_binds_loopback_by_default(site_file: Path) -> None:
    preview = PreviewServer(site_file, port=0, reload=False, echo=lambda line: None)
    assert preview.host == "127.0.0.1"
    with preview:
        assert preview._httpd is not None
        assert preview._httpd.server_address[0] == "127.0.0.1"
        assert preview.url == f"http://127.0.0.1:{preview.port}/"


def test_stop_closes_streams_and_joins_threads(site_file: Path) -> None:
    before = set(threading.enumerate())
    preview = PreviewServer(site_file, port=0, echo=lambda line: None)
    preview.start()
    events = EventStream(preview)
    events.next_build()
    started = time.monotonic()
    preview.stop()
    assert time.monotonic() - started < 5
    assert b"data:" not in events.response.read()  # the stream ended instead of hanging
    events.close()
    assert set(threading.enumerate()) <= before
    with pytest.raises(ConnectionRefusedError):
        get(preview, "/")


def test_a_broken_site_at_start_still_serves_the_overlay(write_site: Callable[..., Path]) -> None:
    site_file = write_site({"content/bad.md": article(author="nobody")})
    with PreviewServer(site_file, port=0, reload=False, echo=lambda line: None) as preview:
        assert not preview.state.ok
        status, body = get(preview, "/")
        assert status == 404
        assert b"content/bad.md:4: unknown author 'nobody'" in body


def test_injection_escapes_problems_and_falls_back_to_appending() -> None:
    state = BuildState(3, ("x.md:1: </script><b>",))
    html = inject_client(b"<p>no body tag</p>", state, reload=True)
    assert html.startswith(b"<p>no body tag</p><script")
    assert b"</script><b>" not in html


def test_cli_serve_prints_its_url_and_exits_cleanly_on_ctrl_c(site_file: Path) -> None:
    command = [sys.executable, "-m", "syndicate", "serve", "--site", str(site_file), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            ready, _, _ = select.select([process.stdout], [], [], DEADLINE)
            assert ready, "serve printed nothing"
            line = process.stdout.readline()
            assert line.startswith("Serving http://127.0.0.1:") and line.rstrip().endswith("/ (Ctrl-C to stop)")
            with urllib.request.urlopen(line.split()[1], timeout=DEADLINE) as response:
                assert MARKER in response.read()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=DEADLINE) == 0
            assert "Traceback" not in process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()


@pytest.mark.browser
def test_a_real_browser_reloads_and_shows_the_overlay(server: PreviewServer, site_file: Path) -> None:
    from .browser_support import launched_chromium

    source = site_file.parent / "content" / "first.md"
    with launched_chromium() as chromium:
        page = chromium.new_page()
        page.set_default_timeout(DEADLINE * 1000)
        page.goto(f"{server.url}articles/first/")
        page.wait_for_function("() => window.EventSource !== undefined")
        page.evaluate("() => { window.notReloaded = true; }")
        edit(source, "author: ann", "author: nobody")
        page.wait_for_selector("#syndicate-overlay")
        assert "unknown author 'nobody'" in page.inner_text("#syndicate-overlay")
        assert page.evaluate("() => window.notReloaded") is True  # a failed build does not reload
        edit(source, "author: nobody", "author: ann")
        edit(source, "The original words.", "Words seen in a browser.")
        page.wait_for_function("() => window.notReloaded === undefined")
        page.wait_for_selector("text=Words seen in a browser.")
        assert page.query_selector("#syndicate-overlay") is None


def test_a_browser_that_goes_away_mid_answer_is_not_an_error() -> None:
    class Gone(io.BytesIO):
        def write(self, data: object) -> int:
            raise BrokenPipeError

    handler = serve._Handler.__new__(serve._Handler)
    handler.wfile = Gone()
    handler.request_version, handler.requestline, handler.command = "HTTP/1.1", "GET / HTTP/1.1", "GET"
    handler.client_address = ("127.0.0.1", 1)
    handler._send(HTTPStatus.OK, b"<p>page</p>", "text/html", {}, True)  # returns quietly


def get_with_host(server: PreviewServer, path: str, host: str | None) -> int:
    """A GET whose Host header says what a browser on another site would send (or none at all)."""
    if host is None:
        import socket

        with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as raw:
            raw.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            return int(raw.makefile("rb").readline().split()[1])
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_only_requests_addressed_to_the_preview_are_answered(server: PreviewServer) -> None:
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert get_with_host(server, "/articles/sketch/", host) == HTTPStatus.OK, host
    # A page on another domain that now resolves to 127.0.0.1 (DNS rebinding) sends its own name.
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1:{port + 1}", f"localhost.attacker.example:{port}",
                 f"127.0.0.1.nip.io:{port}", "", None):
        assert get_with_host(server, "/articles/sketch/", host) == HTTPStatus.MISDIRECTED_REQUEST, host
    assert get_with_host(server, EVENTS_PATH, f"attacker.example:{port}") == HTTPStatus.MISDIRECTED_REQUEST


def test_listening_on_every_address_still_refuses_names_it_does_not_own(site_file: Path) -> None:
    preview = PreviewServer(site_file, host="0.0.0.0", port=8123)
    assert preview.allows_host("192.168.1.20:8123") and preview.allows_host("[fe80::1]:8123") and preview.allows_host("localhost:8123")
    assert not preview.allows_host("intranet.example:8123") and not preview.allows_host("192.168.1.20:8124")
