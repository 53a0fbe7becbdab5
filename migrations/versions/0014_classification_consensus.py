"""classifications get consensus: the least probability any of the model's views gives the label

The judge's asking rule orders papers by how sure the model is of its label (``Prediction.sureness``),
and papers left for review are put to the rule again on later runs from their stored prediction. Rows
stored before this revision keep NULL: their probability stands in for it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("classifications") as batch:
        batch.add_column(sa.Column("consensus", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("classifications") as batch:
        batch.drop_column("consensus")
