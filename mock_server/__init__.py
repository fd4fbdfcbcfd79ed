"""A stateful mock of four vendors' update-a-contract APIs, served from their OpenAPI specs."""

import warnings

__version__ = "0.1.0"

# Connexion imports Starlette's test client at import time, which warns that it is deprecated with httpx:
# noise in every command and in users' pytest runs about code they never call. Loading that one module
# here, before any Connexion import, with that one warning ignored, keeps every other warning visible.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
    import starlette.testclient  # noqa: F401
