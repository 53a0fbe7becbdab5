"""papers.search: PostgreSQL's keyword index, a generated tsvector over title, authors and abstract

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

The PostgreSQL counterpart of 0005's FTS5 table: title weighs A, authors B, abstract C, so ``ts_rank``
can weigh them as bm25 does on SQLite (5 : 2 : 1). The text search configuration ``paperbot_search``
copies ``english`` but, like SQLite's ``porter unicode61 remove_diacritics 2`` tokenizer, keeps stop
words and folds diacritics (through the ``unaccent`` extension, when the server lets us create it).
Also an index in the query side's order, newest first (``ix_papers_newest``). On SQLite this revision
does nothing.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIG = "paperbot_search"
# newest first with undated papers last (SQLite's order), as a browse or an export reads the papers: the
# index hands them over in that order, so a 1,000,000-row export streams instead of sorting
NEWEST_INDEX = "ix_papers_newest"
DICTIONARY = "paperbot_stem"
WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"
ACCENTED_TOKENS = "word, hword, hword_part"
# authors are a JSON list of names: brackets and quotes become spaces, the names stay in order
VECTOR = f"""setweight(to_tsvector('{CONFIG}'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('{CONFIG}'::regconfig, translate(coalesce(authors, ''), '[]"', '   ')), 'B')
    || setweight(to_tsvector('{CONFIG}'::regconfig, coalesce(abstract, '')), 'C')"""


def _unaccent_available() -> bool:
    """Create the ``unaccent`` extension if we may (a trusted extension since PostgreSQL 13)."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    accents = _unaccent_available()
    op.execute(f"CREATE TEXT SEARCH DICTIONARY {DICTIONARY} (TEMPLATE = snowball, Language = english)")
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)")
    op.execute(f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR {WORD_TOKENS} WITH {DICTIONARY}")
    if accents:
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR {ACCENTED_TOKENS} "
                   f"WITH unaccent, {DICTIONARY}")
    op.execute(f"ALTER TABLE papers ADD COLUMN search tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    op.execute("CREATE INDEX ix_papers_search ON papers USING gin (search)")
    op.execute(f"CREATE INDEX {NEWEST_INDEX} ON papers (published DESC NULLS LAST, arxiv_id DESC)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {NEWEST_INDEX}")
    op.execute("DROP INDEX IF EXISTS ix_papers_search")
    op.execute("ALTER TABLE papers DROP COLUMN IF EXISTS search")
    op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")
    op.execute(f"DROP TEXT SEARCH DICTIONARY IF EXISTS {DICTIONARY}")
