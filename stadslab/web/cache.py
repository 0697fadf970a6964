"""A small thread-safe LRU cache for computed layers and tables.

Keys always start with ``state.generation`` and the dataset versions involved, so a refresh from the
app (which bumps the generation) or a new version makes old entries unreachable; they then age out.
Reads of personal data are never cached: each one must pass the gate and be written to the audit log.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class LRUCache:
    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # one computation per key: 20 clients asking the same new layer wait for the first one
        with key_lock:
            with self._lock:
                if key in self._data:
                    self.hits += 1
                    return self._data[key]
            value = compute()
            with self._lock:
                self.misses += 1
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
                self._key_locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
