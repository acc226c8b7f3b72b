"""Record every verdict the checks give while the check tests run, to compare a refactor against.

    python tools/verdict_snapshot.py before.json [pytest args...]   # e.g. -k ps2 (the check tests always run)
    python tools/verdict_snapshot.py after.json  [same args]
    python tools/verdict_snapshot.py --diff before.json after.json

Wraps ``Suite.verdicts`` in the pytest process and records, per test and call, the target, whether
hidden, and each part's diagnosis, summary, evidence and cause. Same tests, same order → the two
files must match (``--codes`` compares diagnoses only).
"""

import json
import sys
from collections import defaultdict

import pytest

TESTS = ["tests/test_checks_ps1_ps2.py", "tests/test_checks_ps3_ps4.py", "tests/test_checks_ps5.py",
         "tests/test_catalogue_fresh.py"]


class Recorder:
    def __init__(self):
        self.records, self.calls, self.current = {}, defaultdict(int), "?"

    def pytest_runtest_setup(self, item):
        self.current = item.nodeid

    def pytest_sessionstart(self, session):
        from nbbackprop.checks import engine
        original = engine.Suite.verdicts
        recorder = self

        def verdicts(suite, results, hidden=False):
            found = original(suite, results, hidden)
            key = f"{recorder.current} #{recorder.calls[recorder.current]}"
            recorder.calls[recorder.current] += 1
            recorder.records[key] = [suite.target, hidden, [[v.part, v.diagnosis, v.summary, v.evidence, v.cause]
                                                            for v in found]]
            return found

        engine.Suite.verdicts = verdicts


def diff(before, after, codes_only):
    a, b = (json.load(open(path)) for path in (before, after))
    changed = 0
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            print(f"only in {'after' if key not in a else 'before'}: {key}")
            changed += 1
            continue
        for pa, pb in zip(a[key][2], b[key][2]):
            same = pa[:2] == pb[:2] if codes_only else pa == pb
            if not same:
                changed += 1
                print(f"{key} {a[key][0]}{' (hidden)' if a[key][1] else ''}:\n  before {pa}\n  after  {pb}")
        if len(a[key][2]) != len(b[key][2]):
            changed += 1
            print(f"{key}: parts {len(a[key][2])} → {len(b[key][2])}")
    print(f"{len(a)} / {len(b)} calls recorded; {changed} differences")
    return 1 if changed else 0


def main(argv):
    if argv and argv[0] == "--diff":
        codes = "--codes" in argv
        paths = [arg for arg in argv[1:] if arg != "--codes"]
        return diff(*paths, codes)
    out, args = argv[0], argv[1:]
    recorder = Recorder()
    pytest.main(["-q", "-p", "no:cacheprovider", *TESTS, *args], plugins=[recorder])
    with open(out, "w") as file:
        json.dump(recorder.records, file, indent=0, sort_keys=True)
    print(f"{len(recorder.records)} verdict calls → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
