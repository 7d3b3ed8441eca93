"""The admin console at ``/admin``: accounts and sign-in (Argon2 passwords, optional TOTP),
server-side sessions, CSRF and Origin checks, roles (``access.require``), the registry pages, the
admin log, and the JSON admin API at ``/admin/api``. Server-rendered HTML with one stylesheet."""

from __future__ import annotations

from hub.admin.app import admin_app

__all__ = ["admin_app"]
