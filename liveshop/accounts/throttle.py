"""Log-ins and sign-ups under rate limits (core/ratelimit.py): brute force and mass sign-up.

A log-in attempt counts against its account (the e-mail, whether or not it exists, so the
answer does not tell which do) and its client address before the password is checked; a
successful one gives both hits back, so only failures use the allowance: the 6th failed
log-in to an account within the window gets 429 — even with the right password — until the
window ends.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts import service
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


async def change_password(
    session: AsyncSession,
    limiter: RateLimiter,
    *,
    user_id: int,
    current: str,
    new: str,
    keep_token_id: int,
    sign_out_api_tokens: bool = False,
) -> int:
    """``service.change_password`` counted against the user before the current password is
    checked (a stolen session cannot guess it: 429 past ``rate_limit_password_change``); a
    change that succeeds gives its hit back."""
    await limiter.take(Bucket.PASSWORD_CHANGE, user_id)
    try:
        revoked = await service.change_password(
            session,
            user_id,
            current=current,
            new=new,
            keep_token_id=keep_token_id,
            sign_out_api_tokens=sign_out_api_tokens,
        )
    except Unauthorized:
        raise
    except BaseException:
        await limiter.give_back(Bucket.PASSWORD_CHANGE, user_id)
        raise
    await limiter.give_back(Bucket.PASSWORD_CHANGE, user_id)
    return revoked
