"""The last printed documents of this process, by data version (the document's ETag).

A version comes from one indexed aggregate (printing.programme.data_version), so an unchanged
document is served from here at once and any change, which changes the version, prints it again.
Bounded in entries and bytes, per process (like campaign.calendar.RenderedFeeds).
"""

import threading
from collections import OrderedDict
from contextlib import contextmanager

from printing.render import Printed


class PrintCache:
    def __init__(self, max_entries: int = 48, max_bytes: int = 96 * 1024 * 1024):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.entries: OrderedDict[str, Printed] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.printing: dict[str, threading.Lock] = {}

    def get(self, version: str) -> Printed | None:
        with self.lock:
            found = self.entries.get(version)
            if found is not None:
                self.entries.move_to_end(version)
            return found

    def put(self, version: str, printed: Printed) -> None:
        if printed.size > self.max_bytes:
            return
        with self.lock:
            if version in self.entries:
                return
            self.entries[version] = printed
            self.size += printed.size
            while len(self.entries) > self.max_entries or self.size > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.size -= dropped.size

    @contextmanager
    def one_at_a_time(self, version: str):
        """Requests for a version being printed wait for it instead of printing it again."""
        with self.lock:
            lock = self.printing.setdefault(version, threading.Lock())
        with lock:
            yield
        with self.lock:
            if not lock.locked():
                self.printing.pop(version, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


PRINTED = PrintCache()
