"""Fair use between departments: per-client rate limits, cost budgets, and disclosure quotas on grants.

- ``limits``: what a client may spend (settings defaults, the registry's per-client override);
- ``counters``: the shared counters (Redis scripts, atomic across replicas) and their in-process twin;
- ``quotas``: which scopes a request's disclosures fall under;
- ``gate``: the edge's check before an operation and its count after;
- ``build``: the gate as the app builds it.

The package imports nothing itself: the settings read ``limits`` while the gate reads the settings.
"""
