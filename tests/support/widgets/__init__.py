"""A one-resource vendor used to test the engine on its own, independent of the real vendors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mock_server.config import Settings
from mock_server.engine.errors import VendorError, not_found
from mock_server.vendors.base import RequestContext, Vendor

HERE = Path(__file__).parent
SETTINGS = Settings(spec_dir=HERE / "openapi", fixtures_dir=HERE / "fixtures", validate_responses=True)


def get_widget(ctx: RequestContext, id: int) -> tuple[dict[str, Any], int]:
    record = ctx.records.get("widgets", id)
    if record is None:
        raise not_found(f"no widget {id}")
    return record, 200


def patch_widget(ctx: RequestContext, id: int, body: Any) -> tuple[dict[str, Any], int]:
    changes = json.loads(body) if isinstance(body, bytes) else body
    if ctx.records.get("widgets", id) is None:
        raise not_found(f"no widget {id}")

    def change(record: dict[str, Any]) -> dict[str, Any]:
        if changes.get("name") == "boom":
            raise VendorError(400, "validation", "boom is not a widget name")
        grow = changes.get("grow", 0)
        record.update({key: value for key, value in changes.items() if key != "grow"})
        record["size"] = record.get("size", 0) + grow
        return record

    return ctx.records.update("widgets", id, change), 200


def render_error(error: VendorError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"error": error.kind, "message": error.message}
    if error.fields:
        body["fields"] = {f.pointer: f.message for f in error.fields}
    return error.status, body


VENDOR = Vendor(
    name="widgets",
    title="Widgets",
    operations={"getWidget": get_widget, "patchWidget": patch_widget},
    render_error=render_error,
)
