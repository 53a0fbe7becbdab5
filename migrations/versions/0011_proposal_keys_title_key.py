"""proposals get unique keys, papers an indexed title key

One open proposal per paper (a partial unique index on ``proposals.arxiv_id`` where ``state = 'open'``) and
one decision per paper and pull request (``(arxiv_id, pr_number)`` where ``state`` is ``merged`` or
``rejected``), so two runs at once cannot record a proposal twice. Rows that broke either rule are
removed first: of several open rows of one paper the latest is kept, of several decisions the first
(the one the bot acted on).

``papers.title_key``: the normalised title (``bot.core.text.title_key``), indexed, so the list's titles are
looked up instead of every paper being read and normalised on each run. Filled here for the papers
stored already.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state = 'open'"
DECIDED = "state IN ('merged', 'rejected')"
BATCH = 1000


def _dedupe() -> None:
    op.execute("DELETE FROM proposals WHERE state = 'open' AND id NOT IN "
               "(SELECT max(id) FROM proposals WHERE state = 'open' GROUP BY arxiv_id)")
    op.execute("DELETE FROM proposals WHERE state IN ('merged', 'rejected') AND pr_number IS NOT NULL "
               "AND id NOT IN (SELECT min(id) FROM proposals WHERE state IN ('merged', 'rejected') "
               "AND pr_number IS NOT NULL GROUP BY arxiv_id, pr_number)")


def _fill_title_keys() -> None:
    from bot.core.text import title_key

    bind = op.get_bind()
    papers = sa.table("papers", sa.column("arxiv_id", sa.String), sa.column("title", sa.Text),
                      sa.column("title_key", sa.String))
    rows = bind.execute(sa.select(papers.c.arxiv_id, papers.c.title)).all()
    update = sa.update(papers).where(papers.c.arxiv_id == sa.bindparam("id")).values(
        title_key=sa.bindparam("key"))
    for start in range(0, len(rows), BATCH):
        bind.execute(update, [{"id": arxiv_id, "key": title_key(title)}
                              for arxiv_id, title in rows[start:start + BATCH]])


def upgrade() -> None:
    _dedupe()
    op.create_index("uq_proposals_open_arxiv_id", "proposals", ["arxiv_id"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("uq_proposals_decided_arxiv_id", "proposals", ["arxiv_id", "pr_number"], unique=True,
                    sqlite_where=sa.text(DECIDED), postgresql_where=sa.text(DECIDED))
    # a plain ALTER TABLE: a batch copy of papers on SQLite would drop its search triggers (0005)
    op.add_column("papers", sa.Column("title_key", sa.String(length=250), nullable=True))
    _fill_title_keys()
    op.create_index("ix_papers_title_key", "papers", ["title_key"])


def downgrade() -> None:
    op.drop_index("ix_papers_title_key", table_name="papers")
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+; no table copy, the triggers stay
        op.execute("ALTER TABLE papers DROP COLUMN title_key")
    else:
        op.drop_column("papers", "title_key")
    op.drop_index("uq_proposals_decided_arxiv_id", table_name="proposals")
    op.drop_index("uq_proposals_open_arxiv_id", table_name="proposals")
