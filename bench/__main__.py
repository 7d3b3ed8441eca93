import sys

if sys.argv[1:2] == ["audit"]:  # python -m bench audit: the audit's store alone (bench/audit_store.py)
    from bench.audit_store import main as audit_main

    raise SystemExit(audit_main(sys.argv[2:]))

if sys.argv[1:2] == ["overview"]:  # python -m bench overview: the console's overview (bench/overview.py)
    from bench.overview import main as overview_main

    raise SystemExit(overview_main(sys.argv[2:]))

from bench.run import main

raise SystemExit(main())
