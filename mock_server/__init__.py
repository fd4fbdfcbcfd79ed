"""A stateful mock of four vendors' update-a-contract APIs, served from their OpenAPI specs."""

__version__ = "0.1.0"
