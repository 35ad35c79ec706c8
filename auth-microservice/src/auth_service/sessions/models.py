"""The `sessions` and `refresh_tokens` tables. A session is one login on one device; its
refresh tokens are its family, of which only the newest is not yet rotated."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.database import Base

USER_AGENT_MAX_LENGTH = 256
ADDRESS_MAX_LENGTH = 64
TOKEN_HASH_BYTES = 32  # SHA-256


class UserSession(Base):
    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_used_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Where the session was last used from, for a list of one's sessions; never checked.
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX_LENGTH))
    address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX_LENGTH))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # `logout`, `logout_all` or `reuse`.
    revoked_reason: Mapped[str | None] = mapped_column(String(16))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    # The SHA-256 of the token; the token itself is never stored. 256 random bits need no
    # salt or slow hash: nobody can guess one to test against the table.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(TOKEN_HASH_BYTES), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    issued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Set when the token is traded for the next one; presenting it again is reuse.
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"octet_length(token_hash) = {TOKEN_HASH_BYTES}", name="hash_length"),
    )
