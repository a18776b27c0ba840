"""Wheel build hook: the built web UI (ui/dist) goes into the wheel as runstash_gateway/ui.

Editable installs read ui/dist from the source tree instead, so `make install` works before the
UI is built. A release wheel without the UI is an error when RUNSTASH_WHEEL_REQUIRE_UI=1
(`make wheels` sets it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface  # type: ignore[import-not-found]


class UIBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "runstash-ui"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        dist = Path(self.root) / "ui" / "dist"
        if (dist / "index.html").is_file():
            build_data["force_include"][str(dist)] = "runstash_gateway/ui"
        elif os.environ.get("RUNSTASH_WHEEL_REQUIRE_UI") == "1":
            raise FileNotFoundError(f"{dist} has no index.html: build the UI first (make ui)")
