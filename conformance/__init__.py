"""Conformance harness: judge the bundled mock, or a real endpoint, against each vendor's documented behaviour."""
