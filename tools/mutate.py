"""Mutation testing of the preprocessing: ``make mutate`` (never part of ``make test``).

    .venv/bin/python -m tools.mutate [--minutes 20] [--sample N] [--fresh | --survivors]

mutmut (its settings in ``tests/mutation/mutmut.cfg``) plants one small change at
a time in ``functions/core/imaging.py`` and runs the fast preprocessing tests
(``tests/property`` and ``tests/unit/test_imaging.py``) against it: a mutant the
tests fail on is killed, one they pass on survived. It works in a scratch copy of
the project under ``.cache/mutate`` with one test process at a time, at low
priority, and stops after ``--minutes``; what it measured is kept, so the next
run goes on where this one stopped, until the code, the tests or the settings
change (then it starts again). ``--survivors``, after adding tests, tries again
only the mutants that were not killed, keeping the rest (while the mutated code
and the settings are unchanged): quick, but only a full run measures the score.
``--sample N`` tries only N of the mutants, drawn at random (the same ones every
run, so runs add up): an estimate of the score in a fraction of the time a full
pass takes (several hours on two shared cores).

The score is killed / (tried - equivalent): the mutants listed in
``tests/mutation/equivalent_mutants.toml`` behave exactly like the original, so
no test can kill them. Each survivor is printed with its diff.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".cache" / "mutate"
MUTATION_DIR = ROOT / "tests" / "mutation"
SETTINGS = MUTATION_DIR / "mutmut.cfg"
EQUIVALENT_FILE = MUTATION_DIR / "equivalent_mutants.toml"
MUTATED = Path("functions/core/imaging.py")
# What the mutated module and its tests need, relative to the project root.
COPIED = (
    Path("functions"),
    Path("tests/__init__.py"),
    Path("tests/imagegen.py"),
    Path("tests/property"),
    Path("tests/unit/test_imaging.py"),
    Path("tests/mutation"),
    Path("pyproject.toml"),
)
# The share of each property's examples a mutant is tried with (tests/mutation/fast_first.py).
EXAMPLE_SHARE = "0.25"
GOAL_PERCENT = 90.0
SAMPLE_SEED = 16
# What `mutmut run` does before it tests anything (mutmut 3.8.1's own functions).
GENERATE_MUTANTS = (
    "import os; from mutmut.__main__ import copy_src_dir, copy_also_copy_files, create_mutants; "
    "os.makedirs('mutants', exist_ok=True); copy_src_dir(); copy_also_copy_files(); create_mutants(1)"
)
DEFAULT_MINUTES = 20.0
# Time mutmut gets to record the mutants it has finished once asked to stop.
STOP_GRACE_SECONDS = 30.0
KILLED_STATUSES = ("killed", "timeout", "segfault")
NOT_TRIED_STATUSES = ("not checked", "skipped", "check was interrupted by user")


@dataclass(frozen=True)
class Equivalent:
    mutant: str
    line: str  # the mutated line, as the mutant's diff shows it after "+"
    why: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="stop trying mutants after this long")
    parser.add_argument("--sample", type=int, default=0, help="try only this many mutants, drawn at random (0: all)")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--fresh", action="store_true", help="forget earlier results and start again")
    choice.add_argument(
        "--survivors", action="store_true", help="after a change of the tests, try again only the survivors"
    )
    args = parser.parse_args()

    started = time.monotonic()
    kept = prepare_scratch_copy(fresh=args.fresh, keep_results_of_other_tests=args.survivors)
    chosen = sampled(args.sample)
    statuses = {name: status for name, status in mutant_statuses().items() if not chosen or name in chosen}
    if kept:
        equivalent = {entry.mutant for entry in load_equivalents()}
        only = [name for name, status in statuses.items() if status not in KILLED_STATUSES and name not in equivalent]
    else:
        only = [name for name, status in statuses.items() if status in NOT_TRIED_STATUSES] if chosen else []
    finished = run_mutmut(args.minutes * 60.0, only) if only or not chosen else True
    statuses = {name: status for name, status in mutant_statuses().items() if not chosen or name in chosen}
    elapsed = time.monotonic() - started
    return report(statuses, load_equivalents(), finished, elapsed)


def fingerprint(files: list[Path]) -> str:
    """A digest of the files, mutmut's version and the share of examples."""
    digest = hashlib.sha256(f"{mutmut_version()} {EXAMPLE_SHARE}".encode())
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_files() -> list[Path]:
    """What the mutants are and how they are tried: the mutated code and the settings."""
    return [ROOT / MUTATED, SETTINGS, *sorted(MUTATION_DIR.glob("*.py"))]


def copied_files() -> list[Path]:
    files = []
    for relative in COPIED:
        path = ROOT / relative
        candidates = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        # The list of equivalent mutants only changes how the results are counted.
        files += [p for p in candidates if "__pycache__" not in p.parts and p != EQUIVALENT_FILE]
    return files


def mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def prepare_scratch_copy(fresh: bool, keep_results_of_other_tests: bool) -> bool:
    """The scratch project mutmut works in. Its earlier results survive if nothing they
    depend on changed, or, when asked, if only the tests did (then True)."""
    stamp, code_stamp = SCRATCH / "fingerprint", SCRATCH / "code-fingerprint"
    # Everything the results depend on: the mutated code, the tests, the settings.
    current, current_code = fingerprint(sorted(copied_files()) + [SETTINGS]), fingerprint(code_files())
    same = stamp.is_file() and stamp.read_text() == current
    same_code = code_stamp.is_file() and code_stamp.read_text() == current_code
    kept = keep_results_of_other_tests and same_code and not same and not fresh
    if fresh or not (same or kept):
        shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    for path in copied_files():
        target = SCRATCH / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copy2(SETTINGS, SCRATCH / "setup.cfg")
    stamp.write_text(current)
    code_stamp.write_text(current_code)
    return kept


def sampled(count: int) -> set[str]:
    """``count`` of the mutants, drawn with a fixed seed (none: all of them)."""
    if count <= 0:
        return set()
    if not (SCRATCH / "mutants").is_dir():
        # mutmut makes its mutants only as it runs them: make them first, to draw from.
        subprocess.run([sys.executable, "-c", GENERATE_MUTANTS], cwd=SCRATCH, check=True, capture_output=True)
    names = sorted(mutant_statuses())
    return set(random.Random(SAMPLE_SEED).sample(names, min(count, len(names))))


def mutmut(*arguments: str) -> list[str]:
    return [str(Path(sys.executable).parent / "mutmut"), *arguments]


def run_mutmut(budget_seconds: float, only: list[str]) -> bool:
    """Runs mutmut (on the mutants named in ``only``, or all) with one test process at low
    priority; asks it to stop once the budget is spent. True if it went through them all."""
    command = ["nice", "-n", "10", *mutmut("run", "--max-children", "1", *only)]
    environment = {**os.environ, "MUTATION_EXAMPLE_SHARE": EXAMPLE_SHARE}
    process = subprocess.Popen(command, cwd=SCRATCH, env=environment, start_new_session=True)
    try:
        process.wait(timeout=budget_seconds)
    except subprocess.TimeoutExpired:
        print(f"\nmake mutate: {budget_seconds / 60:.0f} minutes spent; stopping (run it again to go on).", flush=True)
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False
    if process.returncode != 0:
        raise SystemExit(f"mutmut run failed with exit code {process.returncode}")
    return True


def mutant_statuses() -> dict[str, str]:
    """Each mutant's status, as ``mutmut results`` lists them (none before a first run)."""
    if not (SCRATCH / "mutants").is_dir():
        return {}
    listing = subprocess.run(
        mutmut("results", "--all", "true"), cwd=SCRATCH, capture_output=True, text=True, check=True
    )
    statuses = {}
    for line in listing.stdout.splitlines():
        name, separator, status = line.strip().partition(": ")
        if separator:
            statuses[name] = status
    return statuses


def mutant_diff(name: str) -> str:
    shown = subprocess.run(mutmut("show", name), cwd=SCRATCH, capture_output=True, text=True, check=True)
    return shown.stdout


def mutated_lines(diff: str) -> list[str]:
    return [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]


def load_equivalents() -> list[Equivalent]:
    entries = tomllib.loads(EQUIVALENT_FILE.read_text()).get("equivalent", [])
    return [Equivalent(entry["mutant"], entry["line"], entry["why"]) for entry in entries]


def report(statuses: dict[str, str], equivalents: list[Equivalent], finished: bool, elapsed: float) -> int:
    counts = Counter(statuses.values())
    tried = {name: status for name, status in statuses.items() if status not in NOT_TRIED_STATUSES}
    known_equivalent, stale = set(), []
    for entry in equivalents:
        if entry.mutant not in tried:
            continue
        # An entry names a mutant by number, and numbers move when the code does:
        # it only counts while that mutant still makes the change the entry describes.
        if entry.line in mutated_lines(mutant_diff(entry.mutant)):
            known_equivalent.add(entry.mutant)
        else:
            stale.append(entry)
    judged = {name: status for name, status in tried.items() if name not in known_equivalent}
    killed = [name for name, status in judged.items() if status in KILLED_STATUSES]
    survivors = sorted(name for name in judged if name not in killed)
    score = 100.0 * len(killed) / len(judged) if judged else 0.0

    print(f"\nmake mutate: {MUTATED}, {len(statuses)} mutants, statuses {dict(sorted(counts.items()))}")
    for name in survivors:
        print(f"\n--- survived ({judged[name]}): {name}")
        print(mutant_diff(name).rstrip())
    for entry in stale:
        print(f"\nstale entry in {EQUIVALENT_FILE.relative_to(ROOT)}: {entry.mutant} no longer changes {entry.line!r}")
    not_tried = len(statuses) - len(tried)
    print(
        f"\nscore: {len(killed)} of {len(judged)} non-equivalent mutants killed = {score:.1f}% "
        f"(goal {GOAL_PERCENT:.0f}%); {len(known_equivalent)} equivalent, {len(survivors)} survived"
        + ("" if finished else f", {not_tried} not tried yet")
        + f"; {elapsed / 60:.1f} minutes"
    )
    return 0 if not finished or score >= GOAL_PERCENT else 1


if __name__ == "__main__":
    sys.exit(main())
