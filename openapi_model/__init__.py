"""A small model of an OpenAPI 3.0 document, shared by the mock, the harness and the bench.

It depends on neither: `conformance` and `bench` use it without importing `mock_server`.
"""

from openapi_model.document import (
    HTTP_METHODS,
    YAML_LOADER,
    ApiSpec,
    Operation,
    SpecError,
    examples,
    kept,
    load_yaml,
    load_yaml_file,
    merged,
    properties,
    template_regex,
)
from openapi_model.violations import UNKNOWN, Location, Violation, violations

__all__ = [
    "HTTP_METHODS",
    "UNKNOWN",
    "YAML_LOADER",
    "ApiSpec",
    "Location",
    "Operation",
    "SpecError",
    "Violation",
    "examples",
    "kept",
    "load_yaml",
    "load_yaml_file",
    "merged",
    "properties",
    "template_regex",
    "violations",
]
