"""Revnue's bearer tokens: DRF authentication and permission classes (settings import them by path)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

# token -> (may write, companies of the account)
TOKENS = {"rv-admin-token-51": (True, (11, 12)), "rv-reader-token-52": (False, (11, 12))}


class Account:
    def __init__(self, may_write: bool, companies: tuple[int, ...]) -> None:
        self.may_write = may_write
        self.companies = companies
        self.is_authenticated = True


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Account, str] | None:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        if token not in TOKENS:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return Account(*TOKENS[token]), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TokenPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        account = request.user
        return isinstance(account, Account) and (request.method in SAFE_METHODS or account.may_write)
