"""A bounded, content-addressed, on-disk store of PNG images.

An image's id is the sha256 of its PNG bytes, so the same picture always gets the same id and a
link to it stays valid as long as the image is kept. When the store would pass its byte cap the
least recently used images are evicted; asking for one of them afterwards is a clear 404.

Uploads are worth more than results (a result can be computed again, a student's photo cannot), so
results go first, and an upload is evicted only when uploads alone fill the store. Each client
(its address) may hold at most ``client_max_bytes`` of uploads: past it, that client's own oldest
uploads go, so one client uploading large pictures cannot flush everyone else's. Images found on
disk at start-up count as uploads of no known client.
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


UNKNOWN_CLIENT = ""  # the owner of uploads found on disk at start-up


class ImageStore:
    def __init__(self, root: Path, max_bytes: int, client_max_bytes: int | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.client_max_bytes = client_max_bytes or max_bytes
        self._lock = threading.RLock()  # get() holds it while calling check()
        self._sizes: OrderedDict[str, int] = OrderedDict()  # results, oldest use first
        self._uploads: OrderedDict[str, int] = OrderedDict()  # uploads, oldest use first
        self._owner: dict[str, str] = {}  # upload id -> client
        self._owned: dict[str, OrderedDict[str, int]] = {}  # client -> its uploads, oldest use first
        self._stamped: dict[str, float] = {}  # when each file's time was last set, by us
        self.total_bytes = 0
        root.mkdir(parents=True, exist_ok=True)
        files = sorted(root.glob("*.png"), key=lambda p: p.stat().st_mtime)
        for path in files:
            if _ID.match(path.stem):
                self._add(path.stem, path.stat().st_size, UNKNOWN_CLIENT)
        self._evict()

    def put(self, png: bytes, client: str | None = None) -> str:
        """Store PNG bytes and return their id (idempotent). ``client``: the uploader's key (an
        upload, under that client's quota); None for a result the app made."""
        image_id = sha256(png).hexdigest()
        with self._lock:
            path = self._path(image_id)
            if image_id not in self:
                tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
                tmp.write_bytes(png)
                tmp.replace(path)
                self._stamped[image_id] = time.time()  # a file just written has the time already
            if client is not None and image_id not in self._owner:
                self._forget(image_id)
                self._add(image_id, len(png), client)
            self._touch(image_id, len(png))
            if client is not None:
                self._evict_client(self._owner[image_id], keep=image_id)
            self._evict(keep=image_id)
        return image_id

    def client_bytes(self, client: str) -> int:
        return sum(self._owned.get(client, {}).values())

    def get(self, image_id: str) -> bytes:
        """The PNG bytes of a stored image; raises NotFound with a re-upload hint."""
        with self._lock:
            self.check(image_id)
            try:
                data = self._path(image_id).read_bytes()
            except FileNotFoundError:  # deleted behind our back (another process, a clean-up)
                self._forget(image_id)
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
            if image_id in self:
                return
            try:
                size = self._path(image_id).stat().st_size
            except FileNotFoundError:
                raise ImageGone(GONE) from None
            self._touch(image_id, size)

    def __contains__(self, image_id: str) -> bool:
        return image_id in self._sizes or image_id in self._uploads

    def _path(self, image_id: str) -> Path:
        return self.root / f"{image_id}.png"

    def _add(self, image_id: str, size: int, client: str | None) -> None:
        """A new entry: a result (client None) or an upload of ``client``."""
        self.total_bytes += size
        if client is None:
            self._sizes[image_id] = size
        else:
            self._uploads[image_id] = size
            self._owner[image_id] = client
            self._owned.setdefault(client, OrderedDict())[image_id] = size

    def _forget(self, image_id: str) -> None:
        """Drop an entry from the books (not the file)."""
        size = self._sizes.pop(image_id, None) or self._uploads.pop(image_id, 0)
        self.total_bytes -= size
        client = self._owner.pop(image_id, None)
        if client is not None:
            self._owned[client].pop(image_id, None)
            if not self._owned[client]:
                del self._owned[client]
        self._stamped.pop(image_id, None)

    def _touch(self, image_id: str, size: int) -> None:
        if image_id not in self:
            self._add(image_id, size, None)
        client = self._owner.get(image_id)
        for lru in (self._sizes, self._uploads) if client is None else (self._uploads, self._owned[client]):
            if image_id in lru:
                lru.move_to_end(image_id)
        now = time.time()
        if now - self._stamped.get(image_id, 0.0) >= STAMP_EVERY_S:
            os.utime(self._path(image_id), (now, now))
            self._stamped[image_id] = now

    def _evict(self, keep: str | None = None) -> None:
        """Drop the least recently used images, results before uploads, until the store fits its
        cap again. Called on every put, so it touches only what it removes: the store may hold a
        hundred thousand images. The one just stored stays, even alone over the cap."""
        for lru in (self._sizes, self._uploads):
            while self.total_bytes > self.max_bytes and (victim := _oldest(lru, keep)) is not None:
                self._drop(victim)

    def _evict_client(self, client: str, keep: str) -> None:
        """A client over its quota loses its own oldest uploads, nobody else's."""
        owned = self._owned[client]
        while sum(owned.values()) > self.client_max_bytes and (victim := _oldest(owned, keep)) is not None:
            self._drop(victim)

    def _drop(self, image_id: str) -> None:
        self._forget(image_id)
        self._path(image_id).unlink(missing_ok=True)


def _oldest(lru: OrderedDict[str, int], keep: str | None) -> str | None:
    """The least recently used id other than ``keep``, or None."""
    for image_id in lru:
        if image_id != keep:
            return image_id
    return None
