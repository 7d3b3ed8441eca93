"""The admin console at ``/admin``: accounts and sign-in (Argon2 passwords, optional TOTP),
server-side sessions, CSRF and Origin checks, roles (``access.require``), the registry pages, the
admin log, and the JSON admin API at ``/admin/api``. Server-rendered HTML with one stylesheet.

The app is ``hub.admin.app.admin_app``, mounted by ``hub.app``; importing this package loads
nothing else, so a ``hub`` command that uses the console's sessions or identity links does not
load its pages.
"""
