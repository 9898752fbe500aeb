"""What the API and the pages share: the cache of prepared model inputs, and of finished results."""

from __future__ import annotations

import asyncio

import pytest
import torch

from app.services import InputCache, ResultCache, images


def test_the_input_cache_hands_out_copies() -> None:
    cache = InputCache(max_bytes=10_000)
    x = torch.rand(1, 1, 28, 28)
    cache.put(("sample:a", "digit", (1, 28, 28)), x)
    got = cache.get(("sample:a", "digit", (1, 28, 28)))
    assert torch.equal(got, x)
    got.zero_()  # a caller changing its copy changes nothing for the next one
    assert torch.equal(cache.get(("sample:a", "digit", (1, 28, 28))), x)
    assert cache.get(("sample:b", "digit", (1, 28, 28))) is None


def test_the_input_cache_keeps_to_its_bytes_least_recently_used_out() -> None:
    one = 28 * 28 * 4  # bytes of a float digit
    cache = InputCache(max_bytes=2 * one)
    for name in "abc":
        cache.put((name,), torch.rand(1, 1, 28, 28))
        if name == "b":
            cache.get(("a",))  # a is now more recent than b
    assert cache.get(("a",)) is not None and cache.get(("b",)) is None and cache.get(("c",)) is not None
    assert cache.total_bytes == 2 * one
    cache.put(("huge",), torch.rand(3, 3, 28, 28))  # larger than the whole cache: not kept
    assert cache.get(("huge",)) is None and cache.total_bytes == 2 * one


def test_a_gallery_digit_is_prepared_once(components, services, monkeypatch) -> None:
    entry = components.zoo.entry("mnist-cnn")
    first = services.images.model_input("sample:mnist-00011", entry)
    monkeypatch.setattr(images.imaging, "prepare", lambda *a: (_ for _ in ()).throw(AssertionError("prepared again")))
    assert torch.equal(services.images.model_input("sample:mnist-00011", entry), first)


def test_result_cache_computes_once_for_concurrent_requests_and_keeps_a_bounded_number() -> None:
    calls: list[str] = []

    async def compute(value: str):
        calls.append(value)
        await asyncio.sleep(0.01)
        if value == "bad":
            raise ValueError("no")
        return value

    async def scenario() -> None:
        cache = ResultCache(entries=2)
        keep = lambda r: True
        results = await asyncio.gather(*(cache.get(("a",), lambda: compute("a"), keep) for _ in range(5)))
        assert results == ["a"] * 5 and calls == ["a"]
        for _ in range(2):
            with pytest.raises(ValueError):
                await cache.get(("bad",), lambda: compute("bad"), keep)
        assert calls.count("bad") == 2, "a failure is not kept"
        await cache.get(("b",), lambda: compute("b"), keep)
        await cache.get(("c",), lambda: compute("c"), keep)
        await cache.get(("a",), lambda: compute("a"), keep)
        assert calls.count("a") == 2, "two entries kept: the oldest went"
        await cache.get(("c",), lambda: compute("c"), lambda r: False)
        assert calls.count("c") == 2, "a result no longer valid is computed again"

    asyncio.run(scenario())


def test_a_result_cache_of_no_entries_reuses_nothing() -> None:
    calls: list[str] = []

    async def compute():
        calls.append("x")
        await asyncio.sleep(0.01)
        return "x"

    async def scenario() -> None:
        cache = ResultCache(entries=0)
        await asyncio.gather(*(cache.get(("k",), compute, lambda r: True) for _ in range(3)))
        await cache.get(("k",), compute, lambda r: True)

    asyncio.run(scenario())
    assert calls == ["x"] * 4
