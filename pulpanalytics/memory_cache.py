"""A per-process cache bounded in bytes: where each gunicorn worker keeps built chart data.

Django's LocMemCache bounds its entries by number, and one entry may be a chart of a few hundred
bytes or a summary list of megabytes: 300 entries of 4 MB grew a worker past its memory limit.
This one keeps pickled values, least recently used first out, until their bytes fit MAX_BYTES;
a value larger than an eighth of that is not kept at all, so no single answer can empty it.
"""

import pickle
import time
from collections import OrderedDict
from threading import Lock
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

# Bytes of bookkeeping per entry beside its key and value (the tuple, the dict slot).
ENTRY_OVERHEAD = 200


class BoundedMemoryCache(BaseCache):
    pickle_protocol = pickle.HIGHEST_PROTOCOL

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)
        self.max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", 32 * 1024 * 1024))
        self.largest = self.max_bytes // 8
        # key -> (expiry or None, pickled value); the most recently used entry last.
        self._entries: OrderedDict[str, tuple[float | None, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

    @property
    def size(self) -> int:
        """The bytes the cache holds now (values, keys and bookkeeping)."""
        return self._bytes

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            found = self._live(key)
            if found is None:
                return default
            self._entries.move_to_end(key)
        return pickle.loads(found)  # noqa: S301 (our own values, never a client's bytes)

    def set(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        pickled = pickle.dumps(value, self.pickle_protocol)
        with self._lock:
            self._store(key, pickled, timeout)

    def add(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        pickled = pickle.dumps(value, self.pickle_protocol)
        with self._lock:
            if self._live(key) is not None:
                return False
            return self._store(key, pickled, timeout)

    def touch(
        self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            found = self._live(key)
            if found is None:
                return False
            self._entries[key] = (self.get_backend_timeout(timeout), found)
            return True

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            return self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _live(self, key: str) -> bytes | None:
        """The pickled value of a key that has not expired (an expired one is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expiry, pickled = entry
        if expiry is not None and expiry <= time.time():
            self._drop(key)
            return None
        return pickled

    def _store(self, key: str, pickled: bytes, timeout: float | None) -> bool:
        self._drop(key)
        cost = _cost(key, pickled)
        if cost > self.largest:
            return False
        while self._entries and self._bytes + cost > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
        self._entries[key] = (self.get_backend_timeout(timeout), pickled)
        self._bytes += cost
        return True

    def _drop(self, key: str) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self._bytes -= _cost(key, entry[1])
        return True


def _cost(key: str, pickled: bytes) -> int:
    return len(key) + len(pickled) + ENTRY_OVERHEAD
