"""A stateful mock of four vendors' update-a-contract APIs, served from their OpenAPI specs."""

import warnings

__version__ = "0.1.0"

# Connexion imports Starlette's test client, which warns (once, at import) that it is deprecated with
# httpx: noise in every command and in users' pytest runs about code the mock never calls. Only that
# message, only when Connexion's module triggers it; nothing is imported here.
warnings.filterwarnings(
    "ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated", module=r"connexion\.apps\.abstract"
)
