from __future__ import annotations

import os
import time
from collections import OrderedDict

import pytest

from app.errors import NotFound
from app.media import store as store_module
from app.media.store import ImageStore


def test_content_addressed_and_idempotent(tmp_path) -> None:
    store = ImageStore(tmp_path, max_bytes=1000)
    first = store.put(b"a" * 100)
    assert store.put(b"a" * 100) == first and len(first) == 64
    assert store.get(first) == b"a" * 100
    assert store.total_bytes == 100


def test_least_recently_used_is_evicted_with_a_clear_message(tmp_path) -> None:
    store = ImageStore(tmp_path, max_bytes=250)
    a, b = store.put(b"a" * 100), store.put(b"b" * 100)
    store.get(a)  # a is now more recent than b
    c = store.put(b"c" * 100)
    assert a in store and c in store and b not in store
    with pytest.raises(NotFound, match="upload it again"):
        store.get(b)
    assert store.total_bytes <= 250


def test_survives_a_restart_and_keeps_the_cap(tmp_path) -> None:
    store = ImageStore(tmp_path, max_bytes=1000)
    ids = [store.put(bytes([i]) * 100) for i in range(5)]
    again = ImageStore(tmp_path, max_bytes=250)
    assert again.total_bytes <= 250 and ids[-1] in again and ids[0] not in again


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "g" * 64, ""])
def test_only_hex_ids_are_looked_up(tmp_path, bad: str) -> None:
    with pytest.raises(NotFound, match="not an image id"):
        ImageStore(tmp_path, max_bytes=1000).get(bad)


def test_an_image_stored_by_another_process_sharing_the_folder_is_found(tmp_path) -> None:
    """Two stores on one folder, like two uvicorn workers or two Ray Serve replicas."""
    png = b"\x89PNG any bytes will do"
    first, second = ImageStore(tmp_path, 10_000), ImageStore(tmp_path, 10_000)
    image_id = first.put(png)
    assert second.get(image_id) == png and image_id in second


def test_a_use_is_stamped_on_the_file_at_most_once_a_minute(tmp_path) -> None:
    """A slider drag stores the same original dozens of times a second: one system call a minute."""
    store = ImageStore(tmp_path, max_bytes=1000)
    image_id = store.put(b"a" * 100)
    path = tmp_path / f"{image_id}.png"
    written = path.stat().st_mtime_ns
    os.utime(path, ns=(written - 10**9, written - 10**9))  # as if written a second ago
    store.put(b"a" * 100)
    store.get(image_id)
    assert path.stat().st_mtime_ns == written - 10**9


def test_the_order_of_use_survives_a_restart(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "STAMP_EVERY_S", 0.0)  # stamp every use
    store = ImageStore(tmp_path, max_bytes=1000)
    a, b = store.put(b"a" * 100), store.put(b"b" * 100)
    time.sleep(0.01)
    store.get(a)  # a is now the more recent, on disk too
    again = ImageStore(tmp_path, max_bytes=150)
    assert a in again and b not in again


class _NoWalking(OrderedDict):
    def __iter__(self):
        raise AssertionError("walked every stored image")


def test_a_put_under_the_cap_does_not_walk_the_store(tmp_path) -> None:
    """After a lecture the store holds tens of thousands of images: a put must not visit them all."""
    store = ImageStore(tmp_path, max_bytes=10**9)
    store._sizes = _NoWalking(store._sizes)
    for i in range(3):
        store.put(bytes([i]) * 100)
    assert store.total_bytes == 300


def test_the_image_just_stored_stays_even_over_the_cap(tmp_path) -> None:
    """Its id goes into the answer: it must be there when the client asks for it."""
    store = ImageStore(tmp_path, max_bytes=150)
    old = store.put(b"o" * 100)
    big = store.put(b"b" * 200)
    assert big in store and old not in store and store.get(big) == b"b" * 200


def test_results_are_evicted_before_uploads(tmp_path) -> None:
    store = ImageStore(tmp_path, max_bytes=350)
    upload = store.put(b"u" * 100, client="10.0.0.1")
    results = [store.put(bytes([i]) * 100) for i in range(3)]  # the app's own results, newer
    assert upload in store and results[0] not in store and all(r in store for r in results[1:])


def test_one_client_cannot_flush_the_others_uploads(tmp_path) -> None:
    """A client past its quota loses its own oldest uploads; the others' stay, however cold."""
    store = ImageStore(tmp_path, max_bytes=1000, client_max_bytes=300)
    others = [store.put(bytes([i]) * 100, client=f"10.0.0.{i}") for i in range(1, 4)]
    flood = [store.put(bytes([100 + i]) * 100, client="10.0.0.66") for i in range(30)]
    assert all(o in store for o in others)
    assert [f in store for f in flood] == [False] * 27 + [True] * 3
    assert store.client_bytes("10.0.0.66") == 300 and store.total_bytes <= 1000


def test_an_upload_of_a_picture_already_stored_as_a_result_becomes_an_upload(tmp_path) -> None:
    store = ImageStore(tmp_path, max_bytes=250)
    same = store.put(b"s" * 100)
    assert store.put(b"s" * 100, client="10.0.0.1") == same and store.client_bytes("10.0.0.1") == 100
    store.put(b"r" * 100)
    store.put(b"q" * 100)  # over the cap: results go, the upload stays
    assert same in store and store.total_bytes == 200
