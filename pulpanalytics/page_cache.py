"""Public pages: rendered once per version of the summaries and query string, then served.

A page changes only when a day is (re-)summarized, so its HTML is kept under a key made of its
path, its query string and the version of the summaries (never stale after `summarize`), and a
repeat visit costs one small query. Every distinct query string is a page of its own, so a client
that asks for new ones (ranges picked at will) makes a page render each time: those renders are
counted per client, at most UNCACHED_PAGE_RATE_LIMIT per RATE_LIMIT_WINDOW_SECONDS, and above it
the answer is 429. Pages hold nothing of the visitor (no session, no token), so one copy serves all.
"""

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers

from pulpanalytics import limits
from pulpanalytics.chart_data import CACHE_SECONDS, cache_key, etag_of, summaries_state

ACCEPTS_GZIP_RE = re.compile(r"\bgzip\b(?!\s*;\s*q=0(\.0*)?\s*(,|$))", re.IGNORECASE)
PAGE_RENDERS = limits.Limit("page_renders", "UNCACHED_PAGE_RATE_LIMIT", "RATE_LIMIT_WINDOW_SECONDS")


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The page view, its 200 answers kept per version of the summaries and query string."""

    @wraps(view)
    def page(request: HttpRequest, *args: str, **kwargs: str) -> HttpResponse:
        query = sorted((name, values) for name, values in request.GET.lists())
        key = cache_key(["page", request.path, query, summaries_state().version])
        kept = caches["charts"].get(key)
        if kept is None:
            if wait := PAGE_RENDERS.hit(limits.client_address(request)):
                return limits.too_many(
                    wait, "too many pages rendered for this address; the range presets are cached"
                )
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming:
                return response
            kept = Kept.of(response)
            caches["charts"].set(key, kept, CACHE_SECONDS)
        return kept.answer(request)

    return page


@dataclass(frozen=True)
class Kept:
    """A rendered page as kept: its body plain and gzipped (a public page holds no secret, so
    compressing it is safe from BREACH-style guessing), and the ETag of each."""

    body: bytes
    gzipped: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, response: HttpResponse) -> "Kept":
        body = response.content
        return cls(body, gzip.compress(body, mtime=0), response["Content-Type"], etag_of(body))

    def answer(self, request: HttpRequest) -> HttpResponse:
        compressed = bool(ACCEPTS_GZIP_RE.search(request.headers.get("Accept-Encoding", "")))
        # Each representation has its own validator (RFC 9110 8.8.3).
        etag = self.etag[:-1] + '-gz"' if compressed else self.etag
        response = get_conditional_response(request, etag=etag)
        if response is None:
            response = HttpResponse(
                self.gzipped if compressed else self.body, content_type=self.content_type
            )
            if compressed:
                response["Content-Encoding"] = "gzip"
        response["ETag"] = etag
        patch_vary_headers(response, ["Accept-Encoding"])
        return response
