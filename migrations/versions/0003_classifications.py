"""classifications: the latest prediction per paper

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "classifications",
        sa.Column("arxiv_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("probabilities", sa.Text(), nullable=False),
        sa.Column("runner_up", sa.String(length=20), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("classified_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["arxiv_id"], ["papers.arxiv_id"], ondelete="CASCADE",
                                name=op.f("fk_classifications_arxiv_id_papers")),
        sa.PrimaryKeyConstraint("arxiv_id", name=op.f("pk_classifications")),
    )
    op.create_index(op.f("ix_classifications_label"), "classifications", ["label"])


def downgrade() -> None:
    op.drop_index(op.f("ix_classifications_label"), table_name="classifications")
    op.drop_table("classifications")
