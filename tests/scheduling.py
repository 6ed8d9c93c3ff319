"""How the suite's files are spread over xdist workers (``-n N --dist loadfile``).

A file's tests stay on one worker (its module-scoped servers start once), and the run lasts as
long as the busiest worker. xdist's own order (files with the most tests first) sends the
few-test, minute-long files (the fuzz run, video playback, the shelf sync) last, and one
worker finishes minutes after the others. Here:

- files go out longest first (each file's seconds from the last runs: pytest's cache under
  ``liveshop/file-seconds``, else ``tests/file_seconds.json``, else its test count), so the
  short ones fill in at the end;
- packages listed in ``BUNDLED`` go out in bundles (one fewer than the workers), each bundle's
  files back to back, so a worker builds the package's servers once per bundle, not once per
  file (none listed now: see ``BUNDLED``).

Which tests run and what they check is unchanged; only which worker runs them, and when.
After each run over xdist workers the seconds per file are written to the cache (``pytest
--cache-clear`` forgets them). ``tests/file_seconds.json`` seeds a fresh checkout; refresh it
from the cache with ``python -m tests.scheduling`` after a full run when files come and go.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

CACHE_KEY = "liveshop/file-seconds"
SEED = Path(__file__).with_name("file_seconds.json")
# Packages whose files would go out as bundles sharing their package-scoped servers. Off:
# bundled, tests/browser's files share one demo database for longer than they did when each
# file got a fresh one, and some assume a fresh demo (a show another file scheduled on the
# home page, a sold count): seen failing in session 11's full runs. Bundle again once each
# browser test makes its own shows and figures instead of counting on the demo's.
BUNDLED: tuple[str, ...] = ()
UNKNOWN_PER_TEST_S = 1.0  # a file never timed: this long per test


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def known_seconds(config: pytest.Config) -> dict[str, float]:
    seconds: dict[str, float] = {}
    if SEED.exists():
        seconds.update(json.loads(SEED.read_text()))
    cache = getattr(config, "cache", None)  # None with ``-p no:cacheprovider``
    if cache is not None:
        seconds.update(cache.get(CACHE_KEY, {}))
    return seconds


def _scheduler_class() -> type:
    from xdist.scheduler import LoadFileScheduling

    class LongestFirst(LoadFileScheduling):  # type: ignore[misc]
        """``--dist loadfile`` with the longest work first and bundled packages."""

        def __init__(self, config: pytest.Config, log: Any = None) -> None:
            super().__init__(config, log)
            self._seconds = known_seconds(config)
            self._bundle_of: dict[str, str] | None = None
            self._ordered = False

        def _estimate(self, path: str, tests: int) -> float:
            return self._seconds.get(path, tests * UNKNOWN_PER_TEST_S)

        def _bundles(self) -> dict[str, str]:
            """Each bundled package's files dealt into bundles (longest file to the
            lightest bundle), so the bundles take about as long as each other."""
            if self._bundle_of is None:
                collection = next(iter(self.registered_collections.values()))
                counts: dict[str, int] = defaultdict(int)
                for nodeid in collection:
                    counts[_file_of(nodeid)] += 1
                self._bundle_of = {}
                for package in BUNDLED:
                    files = sorted(
                        (f for f in counts if f.startswith(package)),
                        key=lambda f: -self._estimate(f, counts[f]),
                    )
                    # One worker fewer than there are: one worker at a time is never
                    # running Chromium, and each bundle still needs its server only once.
                    load = [0.0] * max(1, min(len(self.nodes) - 1, len(files)))
                    for f in files:
                        i = load.index(min(load))
                        load[i] += self._estimate(f, counts[f])
                        self._bundle_of[f] = f"{package} (bundle {i + 1})"
            return self._bundle_of

        def _split_scope(self, nodeid: str) -> str:
            path = _file_of(nodeid)
            return self._bundles().get(path, path)

        def _assign_work_unit(self, node: Any) -> None:
            if not self._ordered:  # the queue is complete now: longest first
                self._ordered = True

                def cost(unit: tuple[str, dict[str, bool]]) -> float:
                    files: dict[str, int] = defaultdict(int)
                    for nodeid in unit[1]:
                        files[_file_of(nodeid)] += 1
                    return sum(self._estimate(f, n) for f, n in files.items())

                units = sorted(self.workqueue.items(), key=lambda u: -cost(u))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return LongestFirst


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    # Opt-in (LIVESHOP_TEST_LONGEST_FIRST=1): longest first starts the heaviest files (video
    # playback, the shelf sync, the fuzz run, the kill -9 tests) side by side, and in session
    # 11's full runs the playback test timed out beside them twice; xdist's own order passed.
    if (
        config.getvalue("dist") != "loadfile"
        or os.environ.get("LIVESHOP_TEST_LONGEST_FIRST") != "1"
    ):
        return None
    return _scheduler_class()(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A bundled package's files back to back (in their shuffled order) where the first of
    them is: without xdist too, its package-scoped servers then start once."""
    for package in BUNDLED:
        inside = [i for i in items if i.nodeid.startswith(package)]
        if not inside:
            continue
        first = items.index(inside[0])
        rest = [i for i in items if not i.nodeid.startswith(package)]
        items[:] = rest[:first] + inside + rest[first:]


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[_file_of(report.nodeid)] += report.duration


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(_Timer(), "liveshop-file-timer")


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    timer = config.pluginmanager.get_plugin("liveshop-file-timer")
    cache = getattr(config, "cache", None)  # None with ``-p no:cacheprovider``
    if timer is None or cache is None or not timer.seconds:
        return
    if not config.pluginmanager.has_plugin("dsession"):  # a file alone is quicker than in a run
        return
    seconds = dict(cache.get(CACHE_KEY, {}))
    seconds.update({f: round(s, 1) for f, s in timer.seconds.items()})
    cache.set(CACHE_KEY, seconds)


def main() -> None:
    """Write the cached seconds per file (from the last full run) to the seed file."""
    cache = Path(".pytest_cache/v/") / CACHE_KEY
    seconds = json.loads(cache.read_text())
    existing = {str(p) for p in Path("tests").rglob("test_*.py")}
    kept = {f: s for f, s in sorted(seconds.items()) if f in existing}
    SEED.write_text(json.dumps(kept, indent=1) + "\n")
    print(f"{SEED}: {len(kept)} files")


if __name__ == "__main__":
    main()
