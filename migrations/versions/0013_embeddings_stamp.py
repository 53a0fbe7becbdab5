"""embeddings get an index on (model, created_at): the vector index's staleness check reads it alone

``db/vectors.py`` tells a current vector index from a stale one by ``SELECT count(*), max(created_at)
FROM embeddings WHERE model = ?``. Without an index that reads every vector (1.5 KB a row: 1.8 s at
1,000,000 papers on SQLite, after each write to the database); with it, a narrow index range.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_embeddings_model_created_at", "embeddings", ["model", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_embeddings_model_created_at", table_name="embeddings")
