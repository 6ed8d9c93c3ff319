from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from liveshop.accounts.models import Role, User
from liveshop.accounts.passwords import MIN_PASSWORD_LENGTH
from liveshop.core.types import Line

Password = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: Line = Password
    display_name: Line = Field(min_length=1, max_length=80)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: Line = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    roles: list[Role]
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=sorted(user.role_names),
            is_active=user.is_active,
            created_at=user.created_at,
        )


class TokenOut(BaseModel):
    token: str = Field(description="Shown once; send as `Authorization: Bearer <token>`.")
    token_type: str = "bearer"
    token_id: int
    expires_at: datetime
    csrf_token: str | None = Field(
        default=None, description="Echo in X-CSRF-Token when using the session cookie."
    )


class LoginOut(TokenOut):
    user: UserOut


class TokenCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=80)


class TokenInfo(BaseModel):
    id: int
    kind: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class AdminUserCreateIn(SignupIn):
    roles: list[Role] = Field(default_factory=lambda: [Role.BUYER], min_length=1)


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] = Field(min_length=1)


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: bool


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: Line = Field(min_length=1, max_length=80)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Line = Field(min_length=1, max_length=256)
    new_password: Line = Password
    sign_out_api_tokens: bool = Field(
        default=False, strict=True, description="also revoke your API tokens"
    )


class PasswordChangedOut(BaseModel):
    signed_out_tokens: int = Field(description="other sessions (and tokens) revoked")
