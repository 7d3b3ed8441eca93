"""The client side for department systems, ``HubAuth``: kept in ``client/hub_client`` so that a
department system installs it without the hub's server (the ``service-centre-hub-client``
distribution); the hub's own code and tests reach it here under its old name."""

from __future__ import annotations

from hub_client import ASSERTION_TYPE, HubAuth, TokenRefused, new_client_key, thumbprint

__all__ = ["ASSERTION_TYPE", "HubAuth", "TokenRefused", "new_client_key", "thumbprint"]
