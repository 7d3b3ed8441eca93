"""The settings a command acts on: the demo's in a checkout where ``make run`` set one up.

``make run`` leaves the demo's state in ``.demo/`` (its registry ``hub.sqlite``, key-encryption key,
ops token). A command run in that checkout with nothing saying otherwise (no ``HUB_ENV``, no
settings file) acts on that demo, in development, and says so in one line on stderr; with
``HUB_ENV`` or a settings file the settings are read as they always are, production by default.
An installed hub has no checkout around it, so it is never taken for the demo.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hub.settings import PROJECT_ROOT, Settings, load_settings

DEMO_STATE = PROJECT_ROOT / ".demo"


def command_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    if not _acts_on_demo(config_file, overrides):
        return load_settings(config_file, **overrides)
    print(
        f"hub: acting on the demo in {DEMO_STATE} (development settings; "
        "set HUB_ENV or HUB_CONFIG for another hub)",
        file=sys.stderr,
    )
    demo: dict[str, Any] = {"environment": "development"}
    token = DEMO_STATE / "ops-token"
    if "HUB_OPS_TOKEN" not in os.environ and token.is_file():
        demo["ops_token"] = token.read_text().strip()  # the running demo's /ops (hub cache invalidate)
    return load_settings(None, **demo, **overrides)


def _acts_on_demo(config_file: Path | None, overrides: dict[str, Any]) -> bool:
    chosen = config_file is not None or "environment" in overrides or {"HUB_ENV", "HUB_CONFIG"} & set(os.environ)
    checkout = (PROJECT_ROOT / "pyproject.toml").is_file()
    return not chosen and checkout and (DEMO_STATE / "hub.sqlite").is_file()
