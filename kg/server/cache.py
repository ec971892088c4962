"""Pages kept until the store changes: the store-backed pages of `kg serve` cost seconds on a
large store (the matrix, the whole graph), and they only change when the store does.

A page is kept under its name and parameters together with the store's version: the newest
modification time among the store's files (a `kg build` in another process writes new files) and
the count of updates made through this server. A page of an older version is never served.
The default views are made again in the background when the version changes (`Warmer`), so that
a visitor finds them ready.
"""
from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from typing import Callable, Optional

MAX_PAGES = 64
MAX_BYTES = 256 * 2**20
# The pages a visitor opens first: made as soon as the store changes.
DEFAULT_VIEWS = (("home", ()), ("matrix", ()), ("graph", ()))
WATCH_SECONDS = 2.0


def store_version(path: str, updates: int) -> tuple:
    try:
        newest = max((e.stat().st_mtime_ns for e in os.scandir(path)), default=0)
    except OSError:
        newest = 0
    return newest, updates


class PageCache:
    """At most MAX_PAGES pages and MAX_BYTES, least recently used first out."""

    def __init__(self, max_pages: int = MAX_PAGES, max_bytes: int = MAX_BYTES):
        self.pages: OrderedDict = OrderedDict()
        self.max_pages, self.max_bytes, self.size = max_pages, max_bytes, 0

    def get(self, key, version):
        entry = self.pages.get(key)
        if entry is None or entry[0] != version:
            return None
        self.pages.move_to_end(key)
        return entry[1]

    def put(self, key, version, answer) -> None:
        old = self.pages.pop(key, None)
        if old is not None:
            self.size -= len(old[1].body)
        if len(answer.body) > self.max_bytes:
            return
        self.pages[key] = (version, answer)
        self.size += len(answer.body)
        while len(self.pages) > self.max_pages or self.size > self.max_bytes:
            _, (_, dropped) = self.pages.popitem(last=False)
            self.size -= len(dropped.body)


class Warmer:
    """Makes the default views again whenever the store's version changes."""

    def __init__(self, version: Callable[[], tuple], make: Callable):
        self.version, self.make = version, make
        self.task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    async def _run(self) -> None:
        seen = None
        while True:
            current = self.version()
            if current != seen:
                for name, params in DEFAULT_VIEWS:
                    await self.make(name, dict(params))
                seen = current
            await asyncio.sleep(WATCH_SECONDS)
