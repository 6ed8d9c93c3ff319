"""Users, roles and tokens. Each public function is one transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.accounts.models import AuthToken, Role, TokenKind, User, UserRole
from liveshop.accounts.passwords import dummy_verify, hash_password, verify_password
from liveshop.audit import Action, record
from liveshop.core import i18n
from liveshop.core.clock import utcnow
from liveshop.core.errors import Conflict, NotFound, Unauthorized, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.settings import get_settings

TOKEN_PREFIX = "lsk_"
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: resolved from a bearer token or the session cookie."""

    user_id: int
    roles: frozenset[Role]
    token_id: int
    via_cookie: bool = False
    language: str | None = None  # the user's chosen language (core.i18n), if any

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    record: AuthToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    """Stateless CSRF value bound to one session token (double-submit cookie)."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    roles: Iterable[Role] = (Role.BUYER,),
    audited: bool = False,
    created_by: int | None = None,
) -> User:
    """A new account. ``audited`` (an account an admin or the CLI makes, with the roles it
    gives) records it in the audit log, by ``created_by`` (None: the system, the CLI)."""
    email = normalize_email(email)
    wanted = sorted({str(r) for r in roles})
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=await hash_password(password),
        roles=[UserRole(role=r) for r in wanted],
    )
    session.add(user)
    try:
        if audited:
            await session.flush()
            record(
                session,
                actor_id=created_by,
                action=Action.USER_CREATED,
                target_type="user",
                target_id=user.id,
                after={"email": email, "roles": wanted},
            )
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(
            _("an account with e-mail %(email)s exists", email=email), code="email-taken"
        ) from exc
    await session.refresh(user, ["roles"])
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(_("user %(user_id)s does not exist", user_id=user_id), code="user-not-found")
    return user


async def display_names(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    """``{id: display_name}`` of these users, in one query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {uid: name for uid, name in rows.all()}


async def set_language(session: AsyncSession, user_id: int, language: str | None) -> None:
    """Keep ``language`` (one of ``core.i18n.LANGUAGES``, or None for the browser's) as the
    user's; anything else is refused."""
    if language is not None and language not in i18n.LANGUAGES:
        raise Unprocessable(i18n.gettext("That language is not offered."), code="unknown-language")
    await session.execute(update(User).where(User.id == user_id).values(language=language))
    await session.commit()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def list_users(
    session: AsyncSession, *, role: Role | None = None, limit: int = 50, offset: int = 0
) -> tuple[Sequence[User], int]:
    query = select(User)
    if role is not None:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(User.id).limit(limit).offset(offset))
    return rows.all(), total


async def set_roles(
    session: AsyncSession, user_id: int, roles: Iterable[Role], *, actor_id: int | None = None
) -> User:
    user = await get_user(session, user_id)
    wanted = {str(r) for r in roles}
    had = sorted(r.role for r in user.roles)
    user.roles = [r for r in user.roles if r.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - {r.role for r in user.roles})
    ]
    record(
        session,
        actor_id=actor_id,
        action=Action.USER_ROLES,
        target_type="user",
        target_id=user_id,
        before={"roles": had},
        after={"roles": sorted(wanted)},
    )
    await session.commit()
    await session.refresh(user, ["roles"])
    return user


async def set_active(
    session: AsyncSession, user_id: int, active: bool, *, actor_id: int | None = None
) -> User:
    user = await get_user(session, user_id)
    record(
        session,
        actor_id=actor_id,
        action=Action.USER_ACTIVE,
        target_type="user",
        target_id=user_id,
        before={"is_active": user.is_active},
        after={"is_active": active},
    )
    user.is_active = active
    if not active:
        await session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    await session.commit()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await find_user_by_email(session, email)
    if user is None:
        await dummy_verify(password)
        raise Unauthorized(_("e-mail or password is wrong"), code="bad-credentials")
    if not await verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthorized(_("e-mail or password is wrong"), code="bad-credentials")
    return user


async def issue_token(
    session: AsyncSession, user: User, *, kind: TokenKind, name: str = ""
) -> IssuedToken:
    s = get_settings()
    ttl = (
        timedelta(hours=s.session_ttl_hours)
        if kind is TokenKind.SESSION
        else timedelta(days=s.api_token_ttl_days)
    )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = AuthToken(
        user_id=user.id,
        token_hash=hash_token(token),
        kind=str(kind),
        name=name,
        expires_at=utcnow() + ttl,
    )
    session.add(record)
    await session.commit()
    return IssuedToken(token=token, record=record)


async def resolve_token(
    session: AsyncSession, token: str, *, via_cookie: bool = False
) -> Principal | None:
    """The principal behind a live token, or None (unknown, expired, revoked, inactive)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    row = (
        await session.execute(
            select(AuthToken, User)
            .join(User, User.id == AuthToken.user_id)
            .where(AuthToken.token_hash == hash_token(token))
        )
    ).one_or_none()
    if row is None:
        await session.commit()  # (see below)
        return None
    record, user = row
    if record.revoked_at is not None or record.expires_at <= now or not user.is_active:
        await session.commit()
        return None
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(
            update(AuthToken).where(AuthToken.id == record.id).values(last_used_at=now)
        )
    # Commit either way: who is asking is settled, and the request's own work starts a
    # transaction of its own. Left open, this read would hold SQLite's write lock (every
    # session but a deferred one begins IMMEDIATE) for the rest of the request.
    await session.commit()
    return Principal(
        user_id=user.id,
        roles=frozenset(user.role_names),
        token_id=record.id,
        via_cookie=via_cookie,
        language=user.language,
    )


async def resolve_tokens(
    session: AsyncSession, tokens: Collection[str]
) -> dict[str, Principal | None]:
    """:func:`resolve_token` for many tokens at once, in three statements whatever their
    number (the tokens with their users, the users' roles, one ``last_used_at`` update):
    the node's token cache reads the tokens a drop's first taps bring all at once. Commits
    when it wrote ``last_used_at``. Principals come back with ``via_cookie=False``."""
    out: dict[str, Principal | None] = dict.fromkeys(tokens)
    by_hash = {hash_token(t): t for t in tokens if t.startswith(TOKEN_PREFIX)}
    if not by_hash:
        return out
    now = utcnow()
    rows = (
        await session.execute(
            select(
                AuthToken.id,
                AuthToken.token_hash,
                AuthToken.user_id,
                AuthToken.revoked_at,
                AuthToken.expires_at,
                AuthToken.last_used_at,
                User.is_active,
                User.language,
            )
            .join(User, User.id == AuthToken.user_id)
            .where(AuthToken.token_hash.in_(sorted(by_hash)))
        )
    ).all()
    live = [r for r in rows if r.revoked_at is None and r.expires_at > now and r.is_active]
    roles: dict[int, set[Role]] = {}
    if live:
        for user_id, role in (
            await session.execute(
                select(UserRole.user_id, UserRole.role).where(
                    UserRole.user_id.in_(sorted({r.user_id for r in live}))
                )
            )
        ).all():
            roles.setdefault(user_id, set()).add(Role(role))
    stale = [
        r.id for r in live if r.last_used_at is None or now - r.last_used_at > LAST_USED_RESOLUTION
    ]
    if stale:
        await session.execute(
            update(AuthToken).where(AuthToken.id.in_(stale)).values(last_used_at=now)
        )
        await session.commit()
    for r in live:
        out[by_hash[r.token_hash]] = Principal(
            user_id=r.user_id,
            roles=frozenset(roles.get(r.user_id, set())),
            token_id=r.id,
            via_cookie=False,
            language=r.language,
        )
    return out


async def list_tokens(session: AsyncSession, user_id: int) -> Sequence[AuthToken]:
    rows = await session.scalars(
        select(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .where(AuthToken.expires_at > utcnow())
        .order_by(AuthToken.id)
    )
    return rows.all()


async def revoke_token(session: AsyncSession, *, user_id: int, token_id: int) -> None:
    """Revoke one of the caller's own tokens; someone else's token is 'not found'."""
    result = await session.execute(
        update(AuthToken)
        .where(
            AuthToken.id == token_id,
            AuthToken.user_id == user_id,
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    await session.commit()
    if getattr(result, "rowcount", 0) != 1:
        raise NotFound(
            _("token %(token_id)s does not exist", token_id=token_id), code="token-not-found"
        )


async def update_profile(session: AsyncSession, user_id: int, *, display_name: str) -> User:
    """The user's own details (the name others see). Commits."""
    user = await get_user(session, user_id)
    user.display_name = display_name.strip()
    await session.commit()
    return user


async def change_password(
    session: AsyncSession,
    user_id: int,
    *,
    current: str,
    new: str,
    keep_token_id: int,
    sign_out_api_tokens: bool = False,
) -> int:
    """Set a new password once the current one is given (401 ``bad-credentials`` if wrong),
    and sign out every other session of the user — every other token too with
    ``sign_out_api_tokens`` — in the same transaction (the token this request came with is
    kept). Commits; how many tokens were revoked."""
    user = await get_user(session, user_id)
    if not await verify_password(user.password_hash, current):
        raise Unauthorized(_("the current password is wrong"), code="bad-credentials")
    user.password_hash = await hash_password(new)
    others = update(AuthToken).where(
        AuthToken.user_id == user_id,
        AuthToken.id != keep_token_id,
        AuthToken.revoked_at.is_(None),
    )
    if not sign_out_api_tokens:
        others = others.where(AuthToken.kind == str(TokenKind.SESSION))
    result = await session.execute(
        others.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    revoked = int(getattr(result, "rowcount", 0) or 0)
    record(
        session,
        actor_id=user_id,
        action=Action.USER_PASSWORD,
        target_type="user",
        target_id=user_id,
        after={"signed_out_tokens": revoked, "api_tokens_too": sign_out_api_tokens},
    )
    await session.commit()
    return revoked
