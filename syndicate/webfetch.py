"""Fetching a web page for a tool that works on a site (verify, importers): one careful client.

Every fetch has a deadline, a size limit and a cap on redirects, sends an honest User-Agent,
and turns every way a request can fail (no such host, refused, timed out, too large, TLS,
a broken answer) into one `FetchError` whose message is a single line a user can act on.
HTTP error statuses are answers, not failures: `fetch` raises for them unless the caller
asks to see them (`errors_ok=True`), as a link checker does to name a dead link.

`Fetcher` keeps one connection pool for many requests; `fetch()` is the one-shot form.
The core never imports this module: only tools that reach the network do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from . import DISTRIBUTION, __version__
from .errors import one_line

USER_AGENT = f"{DISTRIBUTION}/{__version__} (static site generator)"
DEFAULT_TIMEOUT = 15.0
DEFAULT_MAX_BYTES = 5_000_000
MAX_REDIRECTS = 10
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class FetchError(Exception):
    """A request that got no usable answer; `str()` is one line naming the URL and the cause."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


@dataclass(frozen=True, slots=True)
class Response:
    """One answer: the URL it came from after redirects, and the URLs that redirected to it."""

    url: str
    status: int
    reason: str
    headers: Mapping[str, str]  # lower-case names
    content: bytes
    history: tuple[str, ...] = field(default=())  # the requested URL and every hop before `url`
    truncated: bool = False  # the body stopped at max_bytes (only with truncate=True)

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def status_line(self) -> str:
        return f"HTTP {self.status} {self.reason}".rstrip()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def location(self) -> str:
        """The absolute target of a redirect answer, or "" for any other answer."""
        target = self.headers.get("location", "")
        return urljoin(self.url, target.strip()) if 300 <= self.status < 400 and target.strip() else ""

    @property
    def text(self) -> str:
        return decode(self.content, self.headers.get("content-type", ""))


class Fetcher:
    """A pooled client for many requests; use as a context manager, or call `close()`."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_redirects: int = MAX_REDIRECTS) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
            timeout=httpx.Timeout(timeout), max_redirects=max_redirects, follow_redirects=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, *, timeout: float | None = None, max_bytes: int | None = None,
              follow_redirects: bool = True, errors_ok: bool = False, truncate: bool = False) -> Response:
        """GET `url`. Raises FetchError for a network failure, a body over `max_bytes` (or,
        with `truncate`, keeps its first `max_bytes`: enough to tell where a page leads), a
        request over `timeout` seconds, and (unless `errors_ok`) an HTTP error status."""
        timeout = self.timeout if timeout is None else timeout
        limit = self.max_bytes if max_bytes is None else max_bytes
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(url, "not an http(s) URL")
        deadline = time.monotonic() + timeout
        try:
            with self._client.stream("GET", url, follow_redirects=follow_redirects,
                                     timeout=httpx.Timeout(timeout)) as answer:
                body, truncated = _read_body(url, answer, limit, deadline, timeout, truncate)
        except httpx.TooManyRedirects:
            raise FetchError(url, f"more than {self._client.max_redirects} redirects") from None
        except httpx.ConnectTimeout:
            raise FetchError(url, f"timed out connecting (after {timeout:g}s)") from None
        except httpx.TimeoutException:
            raise FetchError(url, f"timed out: no complete answer within {timeout:g}s") from None
        except httpx.ConnectError as exc:
            raise FetchError(url, _connect_reason(exc, parts.hostname)) from None
        except httpx.UnsupportedProtocol:
            raise FetchError(url, "redirected to a URL that is not http(s)") from None
        except httpx.DecodingError:
            raise FetchError(url, "the server sent a body that cannot be decoded") from None
        except httpx.HTTPError as exc:  # protocol errors, broken connections, invalid URLs
            raise FetchError(url, f"the request failed: {one_line(exc) or type(exc).__name__}") from None
        history = tuple(str(r.url) for r in answer.history)
        response = Response(
            url=str(answer.url), status=answer.status_code, reason=answer.reason_phrase,
            headers={k.lower(): v for k, v in answer.headers.items()}, content=body, history=history,
            truncated=truncated,
        )
        if not errors_ok and not response.ok:
            raise FetchError(url, response.status_line)
        return response


def fetch(url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
          follow_redirects: bool = True, errors_ok: bool = False, truncate: bool = False) -> Response:
    """Fetch one URL with a client of its own; see `Fetcher.fetch`."""
    with Fetcher(timeout=timeout, max_bytes=max_bytes) as fetcher:
        return fetcher.fetch(url, follow_redirects=follow_redirects, errors_ok=errors_ok, truncate=truncate)


def decode(content: bytes, content_type: str = "") -> str:
    """Bytes of a page as text: by the charset the header names, else the page's <meta>, else UTF-8."""
    charset = header_charset(content_type) or _meta_charset(content) or "utf-8"
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


def _read_body(url: str, answer: httpx.Response, limit: int, deadline: float, timeout: float,
               truncate: bool) -> tuple[bytes, bool]:
    declared = answer.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit and not truncate:
        raise FetchError(url, f"the page is larger than the {_size(limit)} limit ({_size(int(declared))})")
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        if size + len(chunk) > limit:
            if not truncate:
                raise FetchError(url, f"the page is larger than the {_size(limit)} limit")
            chunks.append(chunk[: limit - size])
            return b"".join(chunks), True
        size += len(chunk)
        if time.monotonic() > deadline:
            raise FetchError(url, f"timed out: no complete answer within {timeout:g}s")
        chunks.append(chunk)
    return b"".join(chunks), False


def _connect_reason(exc: httpx.ConnectError, host: str) -> str:
    text = one_line(exc)
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "no address associated" in lowered \
            or "temporary failure in name resolution" in lowered or "getaddrinfo" in lowered:
        return f"cannot find the host {host}"
    if "refused" in lowered:
        return "connection refused"
    if "certificate" in lowered or "ssl" in lowered:
        return f"TLS error: {text}"
    return f"cannot connect: {text or 'unknown error'}"


def header_charset(content_type: str) -> str:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match[1] if match else ""


def _meta_charset(content: bytes) -> str:
    match = _CHARSET.search(content[:4096])
    return match[1].decode("ascii") if match else ""


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count:,} bytes"
