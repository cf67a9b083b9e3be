"""Fetch one web page for an import: bounded in time and size, redirects followed.

A page is read once, by a person waiting at a terminal, so the limits are about not
hanging and not filling memory with something that is not an article: a connect and read
timeout, a cap on the body (checked while streaming, not after), a few redirects, and
http/https only. Any failure is one `url:1: message` problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from .. import DISTRIBUTION, __version__
from ..errors import SiteError

MAX_BYTES = 5_000_000
TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    content_type: str  # lower-case media type, without parameters
    charset: str  # from the Content-Type header, or ""
    data: bytes


def fetch_page(url: str, *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> Fetched:
    if not url.lower().startswith(("http://", "https://")):
        raise SiteError.one(url, 1, "only http and https addresses can be fetched")
    headers = {"User-Agent": f"{DISTRIBUTION}/{__version__} (import page)", "Accept": "text/html,text/plain;q=0.9,*/*;q=0.1"}
    try:
        with httpx.Client(follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=httpx.Timeout(timeout),
                          headers=headers, trust_env=False) as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise SiteError.one(url, 1, f"the server answered {response.status_code} {response.reason_phrase}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise SiteError.one(url, 1, f"the page is {int(declared):,} bytes, more than the {max_bytes:,} bytes an import reads")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise SiteError.one(url, 1, f"the page is more than the {max_bytes:,} bytes an import reads")
                chunks.append(chunk)
            media = response.headers.get("content-type", "")
            content_type = media.split(";")[0].strip().lower()
            charset = response.charset_encoding or ""
            return Fetched(str(response.url), content_type, charset, b"".join(chunks))
    except httpx.TooManyRedirects:
        raise SiteError.one(url, 1, f"more than {MAX_REDIRECTS} redirects; give the page's final address") from None
    except httpx.TimeoutException:
        raise SiteError.one(url, 1, f"no answer within {timeout:g} seconds") from None
    except httpx.HTTPError as exc:
        raise SiteError.one(url, 1, f"cannot fetch the page: {exc}") from None
