"""The peer stack: what a team would build instead of the hub, measured beside it (``python -m bench.peer``).

Market Regulation's part of the graph written the usual way: a strawberry Federation v2 subgraph
over the same SQLite file (SQLAlchemy async, DataLoaders in ``resolve_reference`` and for every
relation, strawberry's parser and validation caches, orjson responses), composed by
``@apollo/composition`` and served by ``@apollo/gateway`` (Apollo Server). It has **no policies,
no audit and no tokens**. It answers the bench's scenarios A and C, which read Market Regulation's
data only; scenario B (licences of three departments) is not part of it.
"""
