"""Every benchmark, one command: ``python -m bench`` (from the repository's root).

Runs, in order, the seed of a million companies (whose database the others use), the
cold start, the portal at scale beside its peers, the service under load, status
propagation, the customer's pages beside the JSON API, and the mixed workload (live
portals beside customers stepping through journeys: the service's capacity for what its
users do together); prints each figure as it is measured and writes them, with the peers'
figures, the ratios, the machine and the command, into ``bench/RESULTS.md`` between its
markers (the analysis around them is kept). Peers are installed into their own virtual
environments under ``bench/out/`` on first use; wrk from Debian's packages.

    python -m bench                      # everything (about twenty minutes)
    python -m bench --only start,scale   # some of it; the other sections stay as they were
    python -m bench --quick              # fewer runs, for trying a change
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import follow, mix, pages, propagation, scale, seeding, service, start
from bench.common import ROOT, WORK, Section, machine, relportal_env

RESULTS = ROOT / "bench" / "RESULTS.md"
ORDER = ("seed", "start", "scale", "service", "propagation", "pages", "mix", "follow")
# The benchmarks that use the million-company database (seeded first if missing).
ON_THE_MILLION = {"scale", "service", "propagation"}


def render(section: Section, when: str, host: str) -> str:
    lines = [
        f"### {section.title}",
        "",
        f"`{section.command}` — {when}; {host}",
        "",
        "| measure | figure | target | |",
        "|---|---:|---|---|",
    ]
    for row in section.rows:
        verdict = "" if row.met is None else ("met" if row.met else "**missed**")
        lines.append(f"| {row.measure} | {row.figure} | {row.target} | {verdict} |")
    lines += ["", *section.notes]
    return "\n".join(lines).rstrip() + "\n"


def write_results(rendered: dict[str, str]) -> None:
    """Each section between its own markers; the rest of the file as it was."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    for key, body in rendered.items():
        block = f"<!-- bench:{key} -->\n{body}<!-- /bench:{key} -->"
        pattern = re.compile(rf"<!-- bench:{key} -->.*?<!-- /bench:{key} -->", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _, block=block: block, text)
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def compile_sources() -> None:
    """Bytecode for relportal's own modules, as an installed relportal has (pip compiles
    a package as it installs it; an editable install writes its bytecode on the first
    run). Where PYTHONDONTWRITEBYTECODE is set, as on the project's machine, every
    start would otherwise compile whatever changed since the bytecode was last
    written: 10-20 ms a changed module, charged to relportal and to none of its peers."""
    for package in ("journey", "tui", "screens", "widgets"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(ORDER), help=f"some of: {','.join(ORDER)}")
    parser.add_argument("--quick", action="store_true", help="fewer runs (figures less steady)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    mixed = parser.add_argument_group("the mixed workload (mix)")
    mixed.add_argument(
        "--mix-companies",
        type=int,
        default=1_000_000,
        help="companies in its bank (another size than a million is seeded apart)",
    )
    mixed.add_argument(
        "--mix-portals", default="50,200", help="numbers of live portals R, comma-separated"
    )
    mixed.add_argument("--mix-workers", type=int, default=2, help="relportal serve --workers")
    mixed.add_argument(
        "--mix-customers",
        type=int,
        help="measure this one C for each R (no capacity search): does it hold?",
    )
    mixed.add_argument(
        "--mix-checkout",
        type=Path,
        help="serve (and seed) with another checkout's .venv/bin/relportal, e.g. a worktree "
        "of an older commit: the 'before' of a before/after",
    )
    mixed.add_argument("--mix-seconds", type=float, default=20, help="seconds per load step")
    mixed.add_argument(
        "--mix-generators", type=int, default=1, help="processes generating the load"
    )
    mixed.add_argument(
        "--mix-first", type=int, default=10, help="customers C at the first step (then doubled)"
    )
    mixed.add_argument(
        "--mix-budget", type=int, default=2, help="bisections between the last held and missed C"
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    os.chdir(ROOT)
    WORK.mkdir(parents=True, exist_ok=True)
    home = WORK / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**relportal_env(home), "PATH": os.environ.get("PATH", "")}
    million, small = WORK / "m1.db", WORK / "k10.db"
    runs = 3 if args.quick else 7
    compile_sources()
    on_the_million = ON_THE_MILLION | (
        {"mix"} if args.mix_companies == 1_000_000 and not args.mix_checkout else set()
    )
    if "seed" not in chosen and not million.exists() and on_the_million & set(chosen):
        print("seeding the million-company database the others use…", file=sys.stderr)
        seeding.seed(million, 1_000_000, env)
    if "start" in chosen and not small.exists():
        seeding.seed(small, 10_000, env)

    mix_db = million
    checkout = args.mix_checkout.resolve() if args.mix_checkout else None
    if "mix" in chosen and (args.mix_companies != 1_000_000 or checkout):
        # Another checkout seeds a database of its own: its schema may be older.
        tag = f"-{checkout.name}" if checkout else ""
        mix_db = WORK / f"mix{args.mix_companies}{tag}.db"
        if not mix_db.exists():
            seeding.seed(mix_db, args.mix_companies, env, checkout)

    benchmarks: dict[str, Callable[[], Section]] = {
        "seed": lambda: seeding.run(million, env),
        "start": lambda: start.run(small, WORK / "home-start", runs),
        "scale": lambda: scale.run(million, WORK / "home-scale", 3 if args.quick else 5),
        "service": lambda: service.run(million, env, 5 if args.quick else 10),
        "propagation": lambda: propagation.run(million, env, 50 if args.quick else 200),
        "mix": lambda: mix.run(
            mix_db,
            env,
            portals=tuple(int(n) for n in args.mix_portals.split(",")),
            workers=args.mix_workers,
            seconds=5 if args.quick else args.mix_seconds,
            generators=args.mix_generators,
            budget=1 if args.quick else args.mix_budget,
            first=args.mix_first,
            checkout=checkout,
            fixed=args.mix_customers,
        ),
        "pages": lambda: pages.run(env, 3 if args.quick else 10, WORK / "pages.db"),
        "follow": lambda: follow.run(env, WORK, args.quick),
    }
    host = machine()
    print(host, file=sys.stderr)
    rendered: dict[str, str] = {}
    for name in ORDER:
        if name not in chosen:
            continue
        print(f"\n{name}:", file=sys.stderr)
        began = time.perf_counter()
        section = benchmarks[name]()
        print(f"  ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        rendered[name] = render(section, when, host)
    if not args.no_write:
        write_results(rendered)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
