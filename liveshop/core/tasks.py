"""Background loops (sweepers, clocks, pollers) that must survive failures but not shutdown."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Call first thing in a background loop's ``except Exception:``.

    A loop catches ``Exception`` so that one failed run (a database restarting, a lock
    timeout) does not stop it. But when the loop's task is cancelled (the app shutting down)
    while it is inside a database call, the driver's clean-up can fail and raise an ordinary
    exception in place of the ``CancelledError`` — the loop would log it and carry on, and
    shutdown would wait for it forever. A task whose cancellation was requested stops here."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
