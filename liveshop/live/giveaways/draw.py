"""The giveaway's draw, as published (``/giveaways/fairness``) — pure, so anyone (and the
tests) can run it again from what was published.

1. When entries open, a random 256-bit seed is drawn (64 hex digits) and only
   ``SHA-256(seed)`` is shown: the seed is fixed before any entry exists.
2. Each entry gets a random public id (16 hex digits); the entries list shows only these.
3. At the draw the seed is revealed. The entries' public ids are sorted (as strings) and
   joined with newlines; the winner is the entry at index

       int(SHA-256(seed + ":" + "\\n".join(sorted_ids)), 16) mod len(sorted_ids)

   of the sorted list. Anyone can check that the seed hashes to the fingerprint shown at the
   start and recompute the index from the published list: the order the entries arrived in
   does not matter, and changing, adding or removing any entry changes the digest.

A 256-bit digest reduced modulo n < 2⁶³ is uniform to within n / 2²⁵⁶ — nothing anyone
could measure.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

SEED_BYTES = 32


def new_seed() -> str:
    return secrets.token_hex(SEED_BYTES)


def new_public_id() -> str:
    return secrets.token_hex(8)


def fingerprint(seed: str) -> str:
    """What is shown while entries are open."""
    return hashlib.sha256(seed.encode()).hexdigest()


def digest(seed: str, public_ids: Iterable[str]) -> str:
    ordered = sorted(public_ids)
    return hashlib.sha256(f"{seed}:{chr(10).join(ordered)}".encode()).hexdigest()


def winner(seed: str, public_ids: Iterable[str]) -> str | None:
    """The winning public id (None for no entries)."""
    ordered = sorted(public_ids)
    if not ordered:
        return None
    return ordered[int(digest(seed, ordered), 16) % len(ordered)]
