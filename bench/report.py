"""The bench's output: a table on stdout and a JSON document in ``bench/results/`` (git-ignored).

Ratios are hub / floor for the same scenario in the same run: for p50 latency above 1 means the hub
is slower (2.0: twice the floor's time); for throughput below 1 means the hub serves fewer requests
per second (0.5: half the floor's). The ratios on/off compare a hub with policies and the audit on
with the same hub (same cache setting) with both off, read the same way: what policies and the
audit cost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from bench.measure import Options
from bench.processes import ROOT
from bench.serving import server_options

LABELS = {
    "hub-on": "hub policies on (cache on)", "hub-off": "hub policies off (cache on)",
    "hub-on-nocache": "hub policies on (cache off)", "hub-off-nocache": "hub policies off (cache off)",
    "hub-masked": "hub masked grant (cache on)", "hub-on-noaudit": "hub policies on, audit off (cache on)",
    "peer": "peer stack: Apollo Gateway + strawberry subgraphs (no policies, no audit, no tokens)",
    "peer-hive": "peer stack: Hive Gateway + strawberry subgraphs (no policies, no audit, no tokens)",
    "floor": "floor",
}
# A target measured with policies and the audit on -> the same hub with both off.
OFF_OF = {
    "hub-on": "hub-off", "hub-on-nocache": "hub-off-nocache", "hub-masked": "hub-off", "hub-on-noaudit": "hub-off",
}
COLUMNS = (
    "scenario", "target", "p50 ms", "p95 ms", "req/s", "CPU ms/req", "cores", "source calls/req", "p50 hub/floor",
    "req/s hub/floor",
    "p50 on/off", "p95 on/off", "req/s on/off", "req/s hub/Apollo peer", "req/s hub/Hive peer",
)
PACKAGES = ("uvicorn", "starlette", "strawberry-graphql", "graphql-core", "sqlalchemy", "aiosqlite", "orjson")


def document(started: dt.datetime, options: Options, outcome: dict[str, Any]) -> dict[str, Any]:
    results = with_ratios(outcome["results"])
    return {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now() - started).total_seconds(), 1),
        "machine": machine(),
        "options": dataclasses.asdict(options),
        "load_average": outcome["load_average"],
        "client_ceiling": outcome["client_ceiling"],
        "scenarios": outcome["scenarios"],
        "results": results,
        "audit": outcome.get("audit", []),
        "failures": outcome["failures"],
    }


def with_ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key = {(r["scenario"], r["target"]): r for r in results}
    for result in results:
        floor = by_key.get((result["scenario"], "floor"))
        if floor is not None and result["target"] != "floor":
            result["p50_ratio_to_floor"] = result["p50_ms"] / floor["p50_ms"]
            result["rps_ratio_to_floor"] = result["rps"] / floor["rps"]
        for peer_key, ratio_key in (("peer", "rps_ratio_to_peer"), ("peer-hive", "rps_ratio_to_hive_peer")):
            peer = by_key.get((result["scenario"], peer_key))
            if peer is not None and result["target"].startswith("hub"):
                result[ratio_key] = result["rps"] / peer["rps"]
        off = by_key.get((result["scenario"], OFF_OF.get(result["target"], "")))
        if off is not None:
            result["ratio_on_off_target"] = off["target"]
            result["p50_ratio_on_off"] = result["p50_ms"] / off["p50_ms"]
            result["p95_ratio_on_off"] = result["p95_ms"] / off["p95_ms"]
            result["rps_ratio_on_off"] = result["rps"] / off["rps"]
    return results


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "server": {k: v for k, v in server_options().items() if k in ("loop", "http")},
        "packages": {name: metadata.version(name) for name in PACKAGES},
        "commit": git("rev-parse", "--short", "HEAD"),
        "worktree_changes": bool(git("status", "--porcelain", "--", "hub", "schema", "connectors")),
    }


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def table(doc: dict[str, Any]) -> str:
    """The figures as a Markdown table (readable on a terminal, pasted as is into bench/README.md)."""
    m, o = doc["machine"], doc["options"]
    changes = " + uncommitted changes" if m["worktree_changes"] else ""
    lines = [
        "",
        (f"{m['cpu_count']} CPUs ({m['cpu_model']}), Python {m['python']}, "
         f"uvicorn loop={m['server']['loop']} http={m['server']['http']}, "
         f"commit {m['commit'] or 'unknown (not a git checkout)'}{changes}"),
        (f"sequential: {o['requests']} requests per target after {o['warmup']} warm-up; throughput: "
         f"{o['clients']} clients, {o['seconds']:g} s per target; {o.get('workers', 1)} server process(es) per "
         f"target; load generator ceiling (/healthz): {doc['client_ceiling']['healthz_rps']:.0f} req/s"),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "--:|" * (len(COLUMNS) - 2),
    ]
    for r in doc["results"]:
        cells = [
            r["scenario"], LABELS[r["target"]], f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['rps']:.1f}",
            f"{r['cpu_ms_per_request']:.2f}", f"{r['cores']:.2f}", f"{r['source_calls_per_request']:.2f}",
            *(ratio(r, k) for k in ("p50_ratio_to_floor", "rps_ratio_to_floor", "p50_ratio_on_off",
                                    "p95_ratio_on_off", "rps_ratio_on_off", "rps_ratio_to_peer",
                                    "rps_ratio_to_hive_peer")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for failure in doc["failures"]:
        lines.append(f"| {failure['scenario']} | FAILED: {failure['problems'][0][:200]} |")
    lines.append("")
    lines += [f"{s['key']}: {s['title']}" for s in doc["scenarios"]]
    lines += ["", *audit_cost_lines(doc["results"]), *audit_lines(doc.get("audit", []))]
    return "\n".join(lines)


def audit_cost_lines(results: list[dict[str, Any]]) -> list[str]:
    """The audit record alone: ``hub-on`` against ``hub-on-noaudit``, the same hub but for the audit."""
    by_key = {(r["scenario"], r["target"]): r for r in results}
    lines = []
    for (scenario, target), on in by_key.items():
        off = by_key.get((scenario, "hub-on-noaudit"))
        if target == "hub-on" and off is not None:
            lines.append(f"  {scenario}: p50 {on['p50_ms'] / off['p50_ms']:.2f}x ({on['p50_ms']:.2f} / "
                         f"{off['p50_ms']:.2f} ms), req/s {on['rps'] / off['rps']:.2f}x ({on['rps']:.1f} / "
                         f"{off['rps']:.1f})")
    return ["The audit record alone (hub-on / hub-on-noaudit, same run):", *lines, ""] if lines else []


def ratio(result: dict[str, Any], key: str) -> str:
    return f"{result[key]:.2f}x" if key in result else ""


def audit_lines(audit: list[dict[str, Any]]) -> list[str]:
    """Each hub's audit table after the run, against the requests it answered."""
    lines = ["Disclosure audit after the run (audit_records in each hub's <state dir>/hub.sqlite):"]
    for a in audit:
        verdict = "ok" if a["audit_records"] == a["expected_records"] else "MISMATCH"
        lines.append(f"  {a['target']:16} policies {a['policies']:10} {a['requests']:6} requests, "
                     f"{a['audit_records']:6} records ({a['expected_records']} expected, {verdict}), "
                     f"{a['audit_subject_rows']} subject rows")
    return lines


def write(directory: Path, started: dt.datetime, doc: dict[str, Any], prefix: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{prefix}{started.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return path
