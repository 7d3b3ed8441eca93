"""``hub``: the command behind ``make run`` and the operator's tool.

  hub demo                 set up the demo (data, GraphiQL) and run it: two department services
                           and the hub, at http://127.0.0.1:8000/graphql
  hub demo generate        (re)generate the demo departments' databases only
  hub demo service NAME    run one demo department service (ecology REST, security GraphQL)
  hub serve                run the hub on the configured sources (HUB_CONFIG, HUB_* variables)
  hub migrate              bring the registry database to this hub's schema (before replicas start)
  hub graphiql install     fetch GraphiQL's files from the npm registry, for offline use
  hub cache invalidate     drop entity cache entries by key (or all of an entity)
  hub operations hash      the SHA-256 naming a document on a persisted-operation allow-list
  hub federation sdl       the departments' Federation v2.7 subgraph SDL (--write: schema/*.graphql)
  hub registry ...         departments, clients and their keys, the hub's signing keys
  hub gateways ...         Federation gateways and their TLS client certificates (RFC 8705)
  hub admin ...            console accounts: create-account, set-password, totp-enable, disable
  hub grants ...           purpose-bound grants: request, approve, revoke, recertify, the admin log
  hub catalogue export     the catalogue of shared data (resources, fields, scopes) as JSON or CSV
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from hub.errors import Conflict, Forbidden, HubError, NotFound
from hub.policy.errors import PolicyError
from hub.settings import SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per outgoing request is noise
    try:
        return int(args.run(args) or 0)
    except HubError as exc:  # every command's refusals, said one way (hub.errors)
        print(f"hub {args.command}: {_kind(exc)}{exc}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"hub: settings: {exc}", file=sys.stderr)
        return 2
    except PolicyError as exc:
        print(f"hub: policies: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _kind(refusal: HubError) -> str:
    """The word before a refusal's message for the kinds a script or person acts on differently:
    a ``Forbidden`` needs someone else, a ``Conflict`` a look at the current state, a ``NotFound``
    another name (or the thing made first)."""
    if isinstance(refusal, Forbidden):
        return "forbidden: "
    if isinstance(refusal, Conflict):
        return "conflict: "
    if isinstance(refusal, NotFound):
        return "not found: "
    return ""


def build_parser() -> argparse.ArgumentParser:
    from hub.commands import (
        admin, audit, cache, catalogue, demo, federation, gateways, graphiql, grants, migrate, operations,
        registry, serve,
    )

    parser = argparse.ArgumentParser(
        prog="hub", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    modules = (
        demo, serve, migrate, graphiql, cache, federation, operations, registry, gateways, grants, audit, catalogue,
        admin,
    )
    for module in modules:
        module.register(commands)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
