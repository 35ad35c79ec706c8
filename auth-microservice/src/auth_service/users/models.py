"""The `users` table."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.database import Base

USERNAME_MAX_LENGTH = 32


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), nullable=False)
    hashed_password: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    __table_args__ = (
        # One index for both jobs: case-insensitive uniqueness, and (thanks to
        # text_pattern_ops) `lower(username) LIKE 'prefix%'` search whatever the collation.
        Index(
            "uq_users_username_lower",
            func.lower(username).label("username_lower"),
            unique=True,
            postgresql_ops={"username_lower": "text_pattern_ops"},
        ),
    )
