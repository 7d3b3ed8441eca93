"""The compiled path: lists of plain record fields completed in a tight loop instead of field by field.

graphql-core completes every field of every record on its own: a resolve info, a response path, a
resolver call, awaitable checks, a leaf coercion. For 1,000 enterprises with 5 fields that is 5,000
rounds of it, where the answer is five dictionary reads per record. ``CompiledExecutor`` (an
``Executor`` subclass, chosen per request by the edge) plans once per prepared document and caller's
view which fields are plain reads of record keys (the graph's one-call readers, with or without the
view's mask) and completes those directly; everything else (resolvers with look-ups, denied fields,
row filters, abstract types, errors) keeps graphql-core's own path.

Look-ups (``levels``): a list whose items each resolve an object field through one look-up by a
key of the record (``schema.common.look_up``: a licence's ``holder``, a holder's
``legalRepresentative``) has all its keys asked of the same batch loader at once, each record found
passes ``Records.finding`` (the row rule and the disclosure note, under the field's resolve info) and
is completed by plan, level by level, instead of one resolver coroutine, task and completion per
record; anything unusual sends the whole list back to graphql-core, which reads the same loaders.

Related records by a known key (``prefetch``): a look-up by an argument (``enterprise(uscc:)``)
whose selection reads records related by that same key (``licences`` by ``holder_uscc``) has them
asked with it, one source round instead of two; only their own resolvers show and note them, under
the parent that arrived and was admitted.

What it never changes: plain readers are pure (a dictionary read, maybe a mask), so a value that
does not complete cleanly (null in a non-null field, a value a scalar cannot represent) is completed
again by graphql-core, which reports it exactly as it always has. Resolvers that read records (through
``hub.data.Records``, which notes the disclosures) are never compiled: the compiled path completes
the records they returned, and reads look-ups only through ``Records`` too, so the disclosure record
is the same.
``tests/graph/test_compiled_path.py`` runs every known query through both paths and compares bytes.
"""

from __future__ import annotations

from hub.graphql.compiled.executor import CompiledExecutor
from hub.graphql.compiled.plans import Plans

__all__ = ["CompiledExecutor", "Plans"]
