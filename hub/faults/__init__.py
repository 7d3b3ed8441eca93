"""The hub under its own dependencies' faults: fail clearly, quickly and briefly, never reopen a door.

- ``outage``: which exceptions mean "a dependency is down or hanging" (driver errors, timeouts),
  and the stable code a caller gets for each (``REGISTRY_UNAVAILABLE``, ``REPLAY_CACHE_UNAVAILABLE``,
  ``AUDIT_UNAVAILABLE`` is answered by the GraphQL endpoint itself);
- ``edge``: the ASGI middleware that answers those with 503 and ``Retry-After`` on every path,
  keeping the connection (an uncaught error would be uvicorn's plain 500 and a closed connection).

Exception tree of what this package raises or recognises::

    DependencyUnavailable (code, dependency)   raised where a dependency's failure is known
    recognised in any exception chain:
      sqlalchemy OperationalError / TimeoutError, DBAPIError with an invalidated connection
      asyncpg connection errors, cancelled statements (statement_timeout), lock_timeout
      redis ConnectionError / TimeoutError
      TimeoutError, ConnectionError and socket OSErrors (not file errors)
"""

from __future__ import annotations

from hub.faults.outage import DependencyUnavailable, Outage, outage_of

__all__ = ["DependencyUnavailable", "Outage", "outage_of"]
