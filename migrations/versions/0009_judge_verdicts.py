"""judge_verdicts: the optional LLM judge's verdicts, per paper, judge model and prompt version

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "judge_verdicts",
        sa.Column("arxiv_id", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("prompt_version", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("secondary", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("judged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["arxiv_id"], ["papers.arxiv_id"], ondelete="CASCADE",
                                name=op.f("fk_judge_verdicts_arxiv_id_papers")),
        sa.PrimaryKeyConstraint("arxiv_id", "model", "prompt_version", name=op.f("pk_judge_verdicts")),
    )


def downgrade() -> None:
    op.drop_table("judge_verdicts")
