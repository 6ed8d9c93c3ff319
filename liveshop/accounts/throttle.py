"""Log-ins and sign-ups under rate limits (core/ratelimit.py): brute force and mass sign-up.

A log-in attempt counts against its account (the e-mail, whether or not it exists, so the
answer does not tell which do) and its client address before the password is checked; a
successful one gives both hits back, so only failures use the allowance: the 6th failed
log-in to an account within the window gets 429 — even with the right password — until the
window ends.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import User
from liveshop.accounts.service import authenticate, normalize_email
from liveshop.core.errors import Unauthorized
from liveshop.core.ratelimit import Bucket, RateLimiter


async def log_in(
    session: AsyncSession, limiter: RateLimiter, *, email: str, password: str, client: str
) -> User:
    """``authenticate`` counted against the account and the client (429 past either)."""
    account = normalize_email(email)
    await limiter.take(Bucket.LOGIN_IP, client)
    try:
        await limiter.take(Bucket.LOGIN_ACCOUNT, account)
    except Exception:
        await limiter.give_back(Bucket.LOGIN_IP, client)
        raise
    try:
        user = await authenticate(session, email, password)
    except Unauthorized:
        raise
    except BaseException:  # not a wrong password (say, the database failed): not counted
        await limiter.give_back(Bucket.LOGIN_ACCOUNT, account)
        await limiter.give_back(Bucket.LOGIN_IP, client)
        raise
    await limiter.give_back(Bucket.LOGIN_ACCOUNT, account)
    await limiter.give_back(Bucket.LOGIN_IP, client)
    return user


async def may_sign_up(limiter: RateLimiter, *, client: str) -> None:
    """One sign-up attempt from ``client`` (429 past the limit)."""
    await limiter.take(Bucket.SIGNUP_IP, client)
