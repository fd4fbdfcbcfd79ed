"""HAR 1.2 recordings: what an entry holds, what is redacted, flushing, and reading back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from recordings import har

STARTED = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)


def make_entry(redaction: har.Redaction, *, request_body: bytes, response_body: bytes, url: str) -> dict:
    return har.entry(
        started=STARTED,
        duration_ms=12.5,
        method="PATCH",
        url=url,
        request=har.Message(
            [("Authorization", "Bearer tok-123456"), ("Content-Type", "application/json"), ("orgId", "42")],
            request_body,
        ),
        status=200,
        status_text="OK",
        response=har.Message([("Content-Type", "application/json"), ("Set-Cookie", "s=abc")], response_body),
        redaction=redaction,
        extra={"_violations": []},
    )


def test_an_entry_has_the_members_har_1_2_requires() -> None:
    entry = make_entry(har.Redaction(), request_body=b'{"a": 1}', response_body=b'{"b": 2}', url="http://h/x?q=1")
    assert set(entry) >= {"startedDateTime", "time", "request", "response", "cache", "timings"}
    assert entry["startedDateTime"] == "2026-12-01T10:30:00.000Z"
    assert set(entry["request"]) >= {"method", "url", "httpVersion", "cookies", "headers", "queryString",
                                     "headersSize", "bodySize"}  # fmt: skip
    assert entry["request"]["queryString"] == [{"name": "q", "value": "1"}]
    assert entry["request"]["postData"] == {"mimeType": "application/json", "text": '{"a": 1}'}
    response = entry["response"]
    assert set(response) >= {"status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL"}
    assert response["content"] == {"size": 8, "mimeType": "application/json", "text": '{"b": 2}'}
    assert entry["_violations"] == []


def test_credentials_and_named_members_become_stars_everywhere() -> None:
    redaction = har.Redaction(members=("account.website", "tags.secret", "code")).with_headers(["orgId"])
    request_body = json.dumps({"account": {"website": "w.example", "name": "n"}, "note": "tok-123456 here"}).encode()
    response_body = json.dumps({"account": {"website": "w.example"}, "tags": [{"secret": 1}, {"secret": 2}]}).encode()
    entry = make_entry(redaction, request_body=request_body, response_body=response_body, url="http://h/x?code=9&k=v")

    text = json.dumps(entry)
    assert "tok-123456" not in text and "w.example" not in text and "abc" not in text
    headers = {h["name"]: h["value"] for h in entry["request"]["headers"]}
    assert headers == {"Authorization": "***", "Content-Type": "application/json", "orgId": "***"}
    assert json.loads(entry["request"]["postData"]["text"]) == {
        "account": {"website": "***", "name": "n"},
        "note": "*** here",
    }
    assert json.loads(entry["response"]["content"]["text"])["tags"] == [{"secret": "***"}, {"secret": "***"}]
    assert entry["request"]["url"] == "http://h/x?code=%2A%2A%2A&k=v"


def test_form_bodies_are_redacted_by_member_name() -> None:
    redacted = har.Redaction(members=("Notes",)).body("Notes=private&MaxCLIs=4", "application/x-www-form-urlencoded")
    assert redacted == "Notes=%2A%2A%2A&MaxCLIs=4"


def test_a_binary_body_is_kept_as_base64() -> None:
    entry = make_entry(har.Redaction(), request_body=b"{}", response_body=b"\xff\x00", url="http://h/x")
    assert entry["response"]["content"]["encoding"] == "base64"
    assert entry["response"]["content"]["text"] == "/wA="


def test_the_recording_is_complete_on_disk_after_every_exchange(tmp_path: Path) -> None:
    writer = har.HarWriter(tmp_path / "deep" / "r.har")
    for count in (1, 2, 3):
        writer.add(make_entry(har.Redaction(), request_body=b"", response_body=b"{}", url=f"http://h/{count}"))
        document = json.loads(writer.path.read_text(encoding="utf-8"))
        assert document["log"]["version"] == "1.2"
        assert [e["request"]["url"] for e in document["log"]["entries"]] == [
            f"http://h/{n}" for n in range(1, count + 1)
        ]
    assert [p.name for p in writer.path.parent.iterdir()] == ["r.har"], "no temporary file left behind"


def test_a_recording_reads_back(tmp_path: Path) -> None:
    writer = har.HarWriter(tmp_path / "r.har")
    writer.add(make_entry(har.Redaction(), request_body=b'{"a": 1}', response_body=b'{"b": 2}', url="http://h/p/1?x=2"))
    (recorded,) = har.read(writer.path)
    assert (recorded.method, recorded.path, recorded.query, recorded.status) == ("PATCH", "/p/1", "x=2", 200)
    assert recorded.request_json() == {"a": 1} and recorded.response_json() == {"b": 2}
    assert recorded.request_headers["authorization"] == "***"


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{", "cannot read"),
        ("[]", "not a HAR file"),
        ('{"log": {"entries": [{"request": {"method": "GET"}}]}}', "entry 0"),
    ],
)
def test_an_unusable_recording_is_refused_clearly(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(har.HarError, match=problem):
        har.read(path)


def test_concurrent_exchanges_leave_a_valid_recording(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    writer = har.HarWriter(tmp_path / "r.har")
    entries = [
        make_entry(har.Redaction(), request_body=b"", response_body=b"{}", url=f"http://h/{n}") for n in range(40)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer.add, entries))
    urls = {entry["request"]["url"] for entry in json.loads(writer.path.read_text())["log"]["entries"]}
    assert urls == {f"http://h/{n}" for n in range(40)}
