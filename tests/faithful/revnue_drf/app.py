"""Revnue Contracts API v2 in Django REST Framework with DRF's defaults: `create_app()` is its WSGI app.

Configured here and not on import (no side effects on import); the views are in `views.py`.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application


def create_app() -> Any:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="faithful-revnue-not-secret",
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            ROOT_URLCONF="tests.faithful.revnue_drf.urls",
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
            MIDDLEWARE=[],
            DATABASES={},
            USE_TZ=True,
            REST_FRAMEWORK={
                "DEFAULT_AUTHENTICATION_CLASSES": ["tests.faithful.revnue_drf.auth.BearerTokenAuthentication"],
                "DEFAULT_PERMISSION_CLASSES": ["tests.faithful.revnue_drf.auth.TokenPermission"],
                # The browsable API needs templates; a JSON API switches it off.
                "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
                "DEFAULT_THROTTLE_CLASSES": [],
                "UNAUTHENTICATED_USER": None,
            },
        )
        django.setup()
    return get_wsgi_application()
