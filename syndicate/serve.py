"""`syndicate serve`: a local preview that rebuilds on save and reloads the open pages.

The preview is an ordinary build() with drafts shown and marked, written to a folder of
its own inside the cache, so the deploy output is never touched by a preview. A watcher
thread calls the same build() again on every change (it is incremental, so a save costs
only what changed) and bumps a *generation*; pages hold a small script, added to served
responses only, that listens on a server-sent event stream and reloads when the generation
moves on, or shows the build's problems over the page when it failed.

Only files inside the preview folder are ever served: a request path is decoded once,
any dot segment (`..`, `.hidden`) is refused, and the resolved file must still lie inside
the folder, so encoded dot-dots and symlinks that lead out both get the 404 page.

Only requests addressed to the server itself are answered (`Host: 127.0.0.1:PORT`,
`localhost:PORT`, `[::1]:PORT`, or the --host given); any other name gets 421. A web page
whose domain an attacker points at 127.0.0.1 ("DNS rebinding") sends its own name, so it
can never read the preview, drafts included.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import mimetypes
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import watchfiles

from .build import build
from .cache import Memory
from .config import load_site
from .errors import Problem, SiteError
from .model import BuildOptions
from .reprints import REGISTRY_NAME, STATUS_NAME
from .urls import contained_path

EVENTS_PATH = "/__syndicate__/events"
PREVIEW_FOLDER = "serve"  # under .syndicate-cache/
KEEPALIVE_SECONDS = 15.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class BuildState:
    """The outcome of the latest preview build; `generation` counts builds, good or bad."""

    generation: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> str:
        return json.dumps({"generation": self.generation, "ok": self.ok, "problems": list(self.problems)})


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class PreviewServer:
    """Build, serve and watch one site; start() returns at once and stop() undoes it all."""

    def __init__(self, site_file: Path | str, host: str = "127.0.0.1", port: int = 8000, *,
                 reload: bool = True, echo: Callable[[str], None] = _stderr) -> None:
        self.site_file = Path(site_file).absolute()
        self.root = self.site_file.parent
        # Not load_site(...).cache_dir: a preview must start, and recover, with a broken site.yaml.
        self.folder = self.root / ".syndicate-cache" / PREVIEW_FOLDER
        self.host = host
        self.port = port
        self.reload = reload
        self.echo = echo
        self.state = BuildState(0)
        self.memory = Memory()  # what each rebuild need not read again
        self.site_url = ""  # the deployed site's URL, as of the last good build
        self._changed = threading.Condition()
        self._building = threading.Lock()
        self._stopping = threading.Event()
        self._watching = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Bind (OSError if the port is taken), build once, then serve and watch in threads."""
        if not self.site_file.is_file():
            load_site(self.site_file)  # raises the usual "site configuration not found"
        self._httpd = _HTTPServer((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        if self.host not in _LOOPBACK:
            self.echo(f"warning: --host {self.host} shows drafts to every machine that can reach it")
        self.rebuild(jobs=0)  # the only build with worker processes: no other thread runs yet
        self._spawn(self._httpd.serve_forever, 0.1)
        if self.reload:
            self._spawn(self._watch)
            if not self._watching.wait(timeout=10):
                self.echo("warning: could not start watching for changes; save again if a page does not reload")

    def stop(self) -> None:
        """Close every connection and join every thread; safe to call twice."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._httpd is not None:
            if self._threads:  # the first thread is serve_forever's
                self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def wait(self) -> None:
        """Block until stop(); wakes twice a second so that Ctrl-C is seen at once."""
        while not self._stopping.wait(0.5):
            pass

    def __enter__(self) -> PreviewServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_change(self, seen: int, timeout: float) -> BuildState | None:
        """The state once its generation differs from `seen` (or the timeout); None when stopping."""
        with self._changed:
            self._changed.wait_for(lambda: self._stopping.is_set() or self.state.generation != seen, timeout)
            return None if self._stopping.is_set() else self.state

    def rebuild(self, jobs: int = 1) -> BuildState:
        """Build the preview; problems go to the terminal and to every open page."""
        options = BuildOptions(include_drafts=True, mark_drafts=True, output_dir=self.folder, jobs=jobs, memory=self.memory)
        with self._building:
            try:
                report = build(self.site_file, options)
                self.site_url = load_site(self.site_file).url
            except SiteError as exc:
                problems = tuple(str(p) for p in exc.problems)
            except Exception as exc:  # our bug: show the traceback, but keep the preview alive
                traceback.print_exc()
                problems = (str(Problem("syndicate", 0, f"internal error ({type(exc).__name__}); see the terminal")),)
            else:
                problems = ()
                for warning in report.warnings:
                    self.echo(str(warning))
                self.echo(report.summary())
            for line in problems:
                self.echo(line)
            with self._changed:
                self.state = BuildState(self.state.generation + 1, problems)
                self._changed.notify_all()
                return self.state

    def allows_host(self, header: str | None) -> bool:
        """Whether a request's Host header names this server (see the module's docstring)."""
        if not header:
            return False
        header = header.strip().lower()
        if header.startswith("["):
            host, _, port = header.partition("]")
            host, port = host + "]", port.removeprefix(":")
        else:
            host, _, port = header.partition(":")
        if port != str(self.port) and not (port == "" and self.port == 80):
            return False
        host = host.rstrip(".")
        bound = self.host.lower()
        if host in ("127.0.0.1", "localhost", "[::1]", bound, f"[{bound}]"):
            return True
        # Listening on every address: any address of this machine may be asked for; a rebinding
        # page cannot send an IP literal of its own, only its domain name.
        return bound in ("0.0.0.0", "::", "") and _is_ip_literal(host)

    def resolve(self, url_path: str) -> Path | str | None:
        """The file for a URL path, a path to redirect to (folder without '/'), or None."""
        decoded = unquote(url_path)
        if "\x00" in decoded or "\\" in decoded or not decoded.startswith("/"):
            return None
        parts = [p for p in decoded.split("/") if p]
        if any(p.startswith(".") for p in parts):
            return None
        relative = "/".join(parts)
        target = contained_path(self.folder, relative) if self.folder.is_dir() else None
        if target is not None and target.is_dir():
            if not url_path.endswith("/"):
                return "/" + quote(f"{relative}/".lstrip("/"))  # rebuilt, so never `//host/`
            target = contained_path(self.folder, f"{relative}/index.html".lstrip("/"))
        return target if target is not None and target.is_file() else None

    def _spawn(self, target: Callable[..., object], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=f"syndicate-{target.__name__}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _watch(self) -> None:
        # Watch the site folder, not site.yaml itself: editors save by renaming a new file
        # over the old one, which ends a watch on the file; the filter keeps the sources.
        sources = _SourceFilter(self.root, self.site_file.name)
        for changes in watchfiles.watch(self.root, watch_filter=sources, stop_event=self._stopping,
                                        rust_timeout=200, yield_on_timeout=True, raise_interrupt=False):
            self._watching.set()
            if changes and not self._stopping.is_set():
                self.rebuild()


class _SourceFilter(watchfiles.DefaultFilter):
    """Changes to site.yaml, reprints.yaml and its status file, content/ and templates/ only:
    never the preview's own writes."""

    def __init__(self, root: Path, site_name: str) -> None:
        super().__init__()
        self.roots = (root, root.resolve())
        self.site_name = site_name

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        for root in self.roots:
            try:
                parts = Path(path).relative_to(root).parts
            except ValueError:
                continue
            # Editor droppings (.swp, ~, .git/) are judged below the site folder only, so a
            # site that happens to live under, say, a .venv folder is still watched.
            wanted = parts in ((self.site_name,), (REGISTRY_NAME,), (STATUS_NAME,)) or (bool(parts) and parts[0] in ("content", "templates"))
            return wanted and super().__call__(change, str(Path(*parts)))
        return False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], preview: PreviewServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.preview = preview
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    timeout = 10  # a client that connects and says nothing must not hold up stop()
    server_version = "syndicate-preview"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal is for build results, not for every request."""

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def _respond(self, with_body: bool) -> None:
        preview = self.server.preview
        if not preview.allows_host(self.headers.get("Host")):
            message = f"This preview answers only {preview.url} (or localhost); the Host header named another site.\n"
            self._send(HTTPStatus.MISDIRECTED_REQUEST, message.encode(), "text/plain; charset=utf-8", {}, with_body)
            return
        path = urlsplit(self.path).path
        if path == EVENTS_PATH and preview.reload and with_body:
            self._stream_events()
            return
        found = preview.resolve(path)
        if isinstance(found, str):
            query = urlsplit(self.path).query
            self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", {"Location": found + (f"?{query}" if query else "")}, with_body)
            return
        status = HTTPStatus.OK
        if found is None:
            status, page = HTTPStatus.NOT_FOUND, preview.resolve("/404.html")
            found = page if isinstance(page, Path) else None
        data = found.read_bytes() if found is not None else _FALLBACK_404
        ctype = _content_type(found.name if found is not None else "404.html")
        if ctype.startswith("text/html"):
            if preview.site_url and (status == HTTPStatus.NOT_FOUND or b'http-equiv="refresh"' in data[:1024]):
                data = localize_links(data, preview.site_url)
            data = inject_client(data, preview.state, preview.reload)
        self._send(status, data, ctype, {}, with_body)

    def _send(self, status: HTTPStatus, data: bytes, ctype: str, headers: dict[str, str], with_body: bool) -> None:
        # A browser that went away mid-answer (a reload, a closed tab) is nothing to report.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if with_body:
                self.wfile.write(data)

    def _stream_events(self) -> None:
        preview = self.server.preview
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        state: BuildState | None = preview.state
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while state is not None:
                self.wfile.write(f"event: build\ndata: {state.as_json()}\n\n".encode())
                self.wfile.flush()
                seen = state.generation
                state = preview.wait_for_change(seen, KEEPALIVE_SECONDS)
                while state is not None and state.generation == seen:
                    self.wfile.write(b": keep-alive\n\n")  # also finds clients that have gone
                    self.wfile.flush()
                    state = preview.wait_for_change(seen, KEEPALIVE_SECONDS)
        except (ConnectionError, TimeoutError):
            pass


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _content_type(name: str) -> str:
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    textual = ctype.startswith("text/") or ctype in ("application/json", "application/xml", "application/javascript")
    return f"{ctype}; charset=utf-8" if textual else ctype


_FALLBACK_404 = b"<!DOCTYPE html><html><head><meta charset=utf-8><title>Not found</title></head><body><h1>Not found</h1></body></html>"

_CLIENT = """<script data-syndicate="live-reload">(function () {
  var generation = %(generation)s, problems = %(problems)s;
  function overlay(lines) {
    var old = document.getElementById("syndicate-overlay");
    if (old) old.remove();
    if (!lines.length) return;
    var box = document.createElement("div"), head = document.createElement("strong");
    box.id = "syndicate-overlay";
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
      "background:rgba(24,24,24,.94);color:#fff;font:15px/1.5 ui-monospace,monospace;white-space:pre-wrap";
    head.textContent = "The last build failed. Fix these problems and save; the page reloads by itself.\\n\\n";
    box.appendChild(head);
    box.appendChild(document.createTextNode(lines.join("\\n")));
    document.body.appendChild(box);
  }
  overlay(problems);
  if (%(reload)s && window.EventSource) {
    new EventSource("%(events)s").addEventListener("build", function (event) {
      var state = JSON.parse(event.data);
      if (!state.ok) overlay(state.problems);
      else if (state.generation !== generation) location.reload();
    });
  }
})();</script>
"""


def inject_client(html: bytes, state: BuildState, reload: bool) -> bytes:
    """Add the live-reload script (and the overlay's problems) before the last </body>."""
    problems = json.dumps(list(state.problems)).replace("<", "\\u003c")
    script = (_CLIENT % {"generation": state.generation, "problems": problems,
                         "reload": "true" if reload else "false", "events": EVENTS_PATH}).encode()
    end = html.lower().rfind(b"</body>")
    return html + script if end < 0 else html[:end] + script + html[end:]


def localize_links(html: bytes, site_url: str) -> bytes:
    """The 404 page and the redirect pages at old addresses link absolutely (they are served
    at any depth, with or without a final `/`); in a preview, to the preview."""
    site = escape(site_url).encode()
    return html.replace(b'href="' + site, b'href="/').replace(b"url=" + site, b"url=/")
