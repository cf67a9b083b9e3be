"""Fetch one web page for an import, through the same careful client as `verify`.

A page is read once, by a person waiting at a terminal, so the limits are about not
hanging and not filling memory with something that is not an article (see `webfetch`).
Any failure, an HTTP error status included, is one `url:1: message` problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SiteError
from ..webfetch import FetchError, fetch, header_charset

MAX_BYTES = 5_000_000
TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    content_type: str  # lower-case media type, without parameters
    charset: str  # from the Content-Type header, or ""
    data: bytes


def fetch_page(url: str, *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> Fetched:
    try:
        response = fetch(url, timeout=timeout, max_bytes=max_bytes)
    except FetchError as exc:
        raise SiteError.one(url, 1, exc.reason) from None
    charset = header_charset(response.headers.get("content-type", ""))
    return Fetched(response.url, response.content_type, charset, response.content)
