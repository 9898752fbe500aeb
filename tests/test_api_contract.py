"""The API's small promises: numbers without float noise, a JSON body over the limit that says so,
and each operation's OpenAPI listing the error statuses it can return (schemathesis, in
tests/test_schema.py, checks that real answers stay inside those lists)."""

from __future__ import annotations

import re

import pytest

NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?")


def significant_digits(number: str) -> int:
    mantissa = number.lstrip("-").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." in number else len(mantissa)


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/v1/attacks/fgsm", {"model": "mnist-cnn", "image": "sample:mnist-00010", "params": {"eps": 0.1}}),
        ("/api/v1/attacks/deepfool", {"model": "mnist-cnn", "image": "sample:mnist-00010"}),
        ("/api/v1/attacks/fgsm/sweep", {"model": "mnist-cnn", "image": "sample:mnist-00010"}),
        ("/api/v1/classify", {"model": "mnist-cnn", "image": "sample:mnist-00010"}),
        ("/api/v1/gradients", {"model": "mnist-cnn", "image": "sample:mnist-00010"}),
    ],
)
def test_numbers_carry_no_float_noise(client, path, body) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    noisy = [n for n in NUMBER.findall(r.text) if significant_digits(n) > 7]
    assert not noisy, noisy[:5]
    assert "4.999999046325684" not in r.text


def test_a_json_body_over_the_limit_says_so(client, settings) -> None:
    huge = '{"model": "mnist-cnn", "image": "' + "x" * (2 * settings.max_upload_bytes) + '"}'
    r = client.post("/api/v1/classify", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "JSON body is larger" in r.json()["detail"]
    upload = client.post("/api/v1/images", files={"file": ("big.png", b"\0" * (2 * settings.max_upload_bytes))})
    assert upload.status_code == 413 and "upload is larger" in upload.json()["detail"]


def documented(client, method: str, path: str) -> set[int]:
    operation = client.get("/openapi.json").json()["paths"][path][method]
    return {int(code) for code in operation["responses"] if code.isdigit() and int(code) >= 400}


@pytest.mark.parametrize(
    "method,path,expected",
    [
        ("get", "/api/v1/jobs/{job_id}", {400, 404}),
        ("delete", "/api/v1/jobs/{job_id}", {400, 403, 404}),
        ("post", "/api/v1/images", {400, 403, 413, 415, 422}),
        ("post", "/api/v1/classify", {400, 403, 404, 413, 422, 503, 504}),
        ("post", "/api/v1/linear-toy", {400, 403, 413, 422}),
        ("get", "/api/v1/images/{image_id}.png", {400, 404}),
    ],
)
def test_each_operation_lists_the_errors_it_can_return(client, method, path, expected) -> None:
    assert documented(client, method, path) == expected


def test_each_attack_documents_its_own_parameters(client) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/v1/attacks/pgd"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    params = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"]["params"]
    assert set(params["properties"]) == {"eps", "alpha", "steps", "random_start", "restarts"}
    assert params["additionalProperties"] is False and params["properties"]["steps"]["maximum"] == 1000
    assert "/api/v1/attacks/{name}" not in schema["paths"]


def test_rounding_keeps_whole_numbers_timestamps_and_turns_non_finite_into_null() -> None:
    from app.web.http import json_text

    text = json_text(
        {
            "a": 4.999999046325684,
            "b": [0.1 + 0.2, 7],
            "t": 1764849600.123456,
            "n": float("nan"),
            "i": float("inf"),
            "ok": True,
        }
    )
    assert text == b'{"a":4.999999,"b":[0.3,7],"t":1764849600.123456,"n":null,"i":null,"ok":true}'
