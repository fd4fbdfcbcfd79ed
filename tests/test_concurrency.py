"""Many concurrent PATCHes over real HTTP: none is lost, state stays consistent."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.server import serving

URL = "/widgets/widgets/1"


def test_concurrent_patches_never_lose_an_update(widgets_app):
    headers = {"Authorization": "Bearer dev-token.concurrency"}
    with serving(widgets_app) as base_url, httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        start = client.get(URL).json()["size"]

        def grow(_: int) -> int:
            return client.patch(URL, json={"grow": 1}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(grow, range(300)))
        assert statuses == [200] * 300
        assert client.get(URL).json()["size"] == start + 300
