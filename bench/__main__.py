import sys

if sys.argv[1:2] == ["audit"]:  # python -m bench audit: the audit's store alone (bench/audit_store.py)
    from bench.audit_store import main as audit_main

    raise SystemExit(audit_main(sys.argv[2:]))

from bench.run import main

raise SystemExit(main())
