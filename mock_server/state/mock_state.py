"""What the running mock holds, reachable from the engine, the admin endpoints and tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_server.config import Settings
from mock_server.engine.auth import TokenRegistry
from mock_server.engine.spec import SpecView
from mock_server.state.clock import Clock
from mock_server.state.request_log import RequestLog
from mock_server.state.store import Store
from mock_server.vendors.base import Vendor


@dataclass
class MockState:
    """Everything the running mock holds, reachable from handlers, admin endpoints and tests."""

    settings: Settings
    vendors: dict[str, Vendor]
    specs: dict[str, SpecView]
    tokens: dict[str, TokenRegistry]
    store: Store
    clock: Clock
    requests: RequestLog = field(default_factory=RequestLog)
