"""The `pytest11` entry point: loads the scenario plugin (`conformance.pytest_plugin`) when the
harness's dependencies are installed (`pip install "contract-mock-kit[conformance]"`), and nothing
otherwise, so that a mock-only install's pytest runs are not broken by a plugin they cannot use."""

from importlib.util import find_spec

pytest_plugins = ["conformance.pytest_plugin"] if find_spec("schemathesis") is not None else []
