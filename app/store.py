"""A bounded, content-addressed, on-disk store of PNG images.

An image's id is the sha256 of its PNG bytes, so the same picture always gets the same id and a
link to it stays valid as long as the image is kept. When the store would pass its byte cap the
least recently used images are evicted; asking for one of them afterwards is a clear 404.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from hashlib import sha256
from pathlib import Path

from app.errors import ImageGone, NotFound

_ID = re.compile(r"^[0-9a-f]{64}$")
# A file's modification time records its last use, so the LRU order survives a restart. Stamping
# it on every use costs a system call per image per request (a slider drag re-stores the same
# original dozens of times a second), so it is refreshed at most this often.
STAMP_EVERY_S = 60.0
GONE = "This image is no longer stored: AdvLab keeps recent uploads only. Please upload it again."


class ImageStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.RLock()  # get() holds it while calling check()
        self._sizes: OrderedDict[str, int] = OrderedDict()  # oldest use first
        self._stamped: dict[str, float] = {}  # when each file's time was last set, by us
        self.total_bytes = 0
        root.mkdir(parents=True, exist_ok=True)
        files = sorted(root.glob("*.png"), key=lambda p: p.stat().st_mtime)
        for path in files:
            if _ID.match(path.stem):
                self._sizes[path.stem] = path.stat().st_size
                self.total_bytes += self._sizes[path.stem]
        self._evict()

    def put(self, png: bytes) -> str:
        """Store PNG bytes and return their id (idempotent)."""
        image_id = sha256(png).hexdigest()
        with self._lock:
            path = self._path(image_id)
            if image_id not in self._sizes:
                tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
                tmp.write_bytes(png)
                tmp.replace(path)
                self._stamped[image_id] = time.time()  # a file just written has the time already
            self._touch(image_id, len(png))
            self._evict(keep=image_id)
        return image_id

    def get(self, image_id: str) -> bytes:
        """The PNG bytes of a stored image; raises NotFound with a re-upload hint."""
        with self._lock:
            self.check(image_id)
            try:
                data = self._path(image_id).read_bytes()
            except FileNotFoundError:  # deleted behind our back (another process, a clean-up)
                self.total_bytes -= self._sizes.pop(image_id)
                self._stamped.pop(image_id, None)
                raise ImageGone(GONE) from None
            self._touch(image_id, len(data))
        return data

    def check(self, image_id: str) -> None:
        """Raise NotFound unless ``image_id`` is a stored image (ImageGone when it was evicted).

        Another process sharing the folder (uvicorn workers, Ray Serve replicas) may have stored
        it: the file is content-addressed, so finding it on disk is as good as our own record."""
        if not _ID.match(image_id):
            raise NotFound(f"{image_id[:80]!r} is not an image id (ids are 64 hexadecimal characters).")
        with self._lock:
            if image_id in self._sizes:
                return
            try:
                size = self._path(image_id).stat().st_size
            except FileNotFoundError:
                raise ImageGone(GONE) from None
            self._touch(image_id, size)

    def __contains__(self, image_id: str) -> bool:
        return image_id in self._sizes

    def _path(self, image_id: str) -> Path:
        return self.root / f"{image_id}.png"

    def _touch(self, image_id: str, size: int) -> None:
        self.total_bytes += size - self._sizes.get(image_id, 0)
        self._sizes[image_id] = size
        self._sizes.move_to_end(image_id)
        now = time.time()
        if now - self._stamped.get(image_id, 0.0) >= STAMP_EVERY_S:
            os.utime(self._path(image_id), (now, now))
            self._stamped[image_id] = now

    def _evict(self, keep: str | None = None) -> None:
        """Drop the least recently used images until the store fits its cap again. Called on every
        put, so it touches only what it removes: the store may hold a hundred thousand images."""
        while self.total_bytes > self.max_bytes and len(self._sizes) > (keep in self._sizes):
            image_id = next(iter(self._sizes))
            if image_id == keep:  # the one just stored stays, even alone over the cap
                self._sizes.move_to_end(image_id)
                continue
            self.total_bytes -= self._sizes.pop(image_id)
            self._stamped.pop(image_id, None)
            self._path(image_id).unlink(missing_ok=True)
