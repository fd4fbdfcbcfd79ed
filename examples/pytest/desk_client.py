"""The code under test: a small Zoho Desk client, as an integrator would write it.

It gets access tokens from Zoho accounts with its refresh token, and gets a new one when the API
answers INVALID_OAUTHTOKEN. Nothing here knows about the mock: the tests only swap the URLs.
"""

from __future__ import annotations

from typing import Any

import httpx


class DeskContracts:
    def __init__(
        self,
        http: httpx.Client,
        *,
        accounts_url: str,
        org_id: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
    ) -> None:
        self.http = http
        self.accounts_url = accounts_url
        self.org_id = org_id
        self.credentials = {"client_id": client_id, "client_secret": client_secret, "refresh_token": refresh_token}
        self.access_token: str | None = None
        self.api_domain = ""
        self.refreshes = 0

    def rename(self, contract_id: str, name: str) -> dict[str, Any]:
        response = self._call("PATCH", f"/api/v1/contracts/{contract_id}", json={"contractName": name})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def _call(self, method: str, path: str, **options: Any) -> httpx.Response:
        if self.access_token is None:
            self._refresh()
        response = self._send(method, path, **options)
        if response.status_code == 401 and response.json().get("errorCode") == "INVALID_OAUTHTOKEN":
            self._refresh()
            response = self._send(method, path, **options)
        return response

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Zoho-oauthtoken {self.access_token}", "orgId": self.org_id}
        return self.http.request(method, self.api_domain + path, headers=headers, **options)

    def _refresh(self) -> None:
        data = {"grant_type": "refresh_token", **self.credentials}
        answer = self.http.post(f"{self.accounts_url}/oauth/v2/token", data=data).json()
        if "error" in answer:
            raise RuntimeError(f"Zoho accounts refused the refresh token: {answer['error']}")
        self.access_token = answer["access_token"]
        self.api_domain = answer["api_domain"]
        self.refreshes += 1
