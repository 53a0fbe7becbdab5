"""column lengths fit what is stored: classifications.model_version (67 characters today) and
list_entries.venue (a list's venue tag, any length). SQLite never enforced them; PostgreSQL does.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("classifications") as batch:
        batch.alter_column("model_version", existing_type=sa.String(length=64), type_=sa.String(length=200),
                           existing_nullable=False)
    with op.batch_alter_table("list_entries") as batch:
        batch.alter_column("venue", existing_type=sa.String(length=40), type_=sa.Text(),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("list_entries") as batch:
        batch.alter_column("venue", existing_type=sa.Text(), type_=sa.String(length=40),
                           existing_nullable=True)
    with op.batch_alter_table("classifications") as batch:
        batch.alter_column("model_version", existing_type=sa.String(length=200), type_=sa.String(length=64),
                           existing_nullable=False)
