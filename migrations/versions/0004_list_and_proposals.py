"""list_entries and proposals: what is on the list, what the bot proposed, what maintainers decided

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("venue", sa.String(length=40), nullable=True),
        sa.Column("arxiv_id", sa.String(length=40), nullable=True),
        sa.Column("resolved_by", sa.String(length=20), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["arxiv_id"], ["papers.arxiv_id"], ondelete="SET NULL",
                                name=op.f("fk_list_entries_arxiv_id_papers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
    )
    op.create_index(op.f("ix_list_entries_arxiv_id"), "list_entries", ["arxiv_id"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("final_label", sa.String(length=20), nullable=True),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["arxiv_id"], ["papers.arxiv_id"], ondelete="CASCADE",
                                name=op.f("fk_proposals_arxiv_id_papers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_arxiv_id"), "proposals", ["arxiv_id"])
    op.create_index(op.f("ix_proposals_state"), "proposals", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_proposals_state"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_arxiv_id"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_index(op.f("ix_list_entries_arxiv_id"), table_name="list_entries")
    op.drop_table("list_entries")
