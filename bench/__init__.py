"""The benchmark: the hub against a hand-written floor over the same demo data, in one run.

``make bench`` (``python -m bench``) generates the demo departments, starts the two demo department
services, the hub with policies and the disclosure audit on and off (each with its entity cache on
and off, plus a masked grant and policies without the audit), the peer stack and the floor
(``bench.floor``) as servers of their own (``--workers`` processes each), runs every scenario against
each, checks that the floor's JSON equals the hub's ``data``, counts each hub's audit records and
prints a table; ``bench/README.md`` says how to read it.
"""
