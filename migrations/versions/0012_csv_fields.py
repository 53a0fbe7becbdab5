"""papers.csv_fields: each paper's own fields as CSV text, kept by triggers, for a fast CSV export

``paperbot export --format csv`` formatted every record's twelve paper fields at export time (quoting,
joining the JSON author and category lists, ISO times): 24 s of SQLite's time at 1,000,000 papers. The
text depends on the paper's row alone, so it is now formatted when the row is written and stored in
``papers.csv_fields``; an export appends the fields that come from other tables (``db/csvexport.py``).

Triggers keep it, whoever writes the row: on SQLite ``AFTER INSERT`` and ``AFTER UPDATE OF`` the twelve
columns (an ``UPDATE`` of the row by its rowid; ``csv_fields`` itself is not among the columns, so it does
not fire again), on PostgreSQL one ``BEFORE INSERT OR UPDATE OF`` trigger that sets ``NEW.csv_fields``.
The papers stored already are filled here. SQLite also gets the newest-first index that PostgreSQL has
had since 0010 (``ix_papers_newest``): an export walks it instead of sorting each day's papers by id.
The expressions are frozen copies of ``db.csvexport.sqlite_head("")`` and ``postgres_head("NEW.")`` as
they were at this revision.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("arxiv_id, version, title, authors, abstract, published, updated, categories, primary_category, "
           "comment, journal_ref, doi")
SQLITE_HEAD = (
    "printf('%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s', arxiv_id, version, CASE WHEN instr(title, ',') OR "
    'instr(title, \'"\') OR instr(title, char(10)) OR instr(title, char(13)) THEN \'"\' || '
    'replace(title, \'"\', \'""\') || \'"\' ELSE title END, CASE WHEN instr(CASE WHEN (substr(authors, '
    '1, 2) = \'["\' AND substr(authors, -2) = \'"]\' AND instr(authors, \'\\\') = 0 AND '
    'instr(replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \'), \'"\') = 0) THEN '
    'replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    "group_concat(value, '; ') FROM json_each(authors)) END, ',') OR instr(CASE WHEN (substr(authors, "
    '1, 2) = \'["\' AND substr(authors, -2) = \'"]\' AND instr(authors, \'\\\') = 0 AND '
    'instr(replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \'), \'"\') = 0) THEN '
    'replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    'group_concat(value, \'; \') FROM json_each(authors)) END, \'"\') OR instr(CASE WHEN '
    '(substr(authors, 1, 2) = \'["\' AND substr(authors, -2) = \'"]\' AND instr(authors, \'\\\') = 0 '
    'AND instr(replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \'), \'"\') = 0) THEN '
    'replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    "group_concat(value, '; ') FROM json_each(authors)) END, char(10)) OR instr(CASE WHEN "
    '(substr(authors, 1, 2) = \'["\' AND substr(authors, -2) = \'"]\' AND instr(authors, \'\\\') = 0 '
    'AND instr(replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \'), \'"\') = 0) THEN '
    'replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    'group_concat(value, \'; \') FROM json_each(authors)) END, char(13)) THEN \'"\' || replace(CASE '
    'WHEN (substr(authors, 1, 2) = \'["\' AND substr(authors, -2) = \'"]\' AND instr(authors, \'\\\') = '
    '0 AND instr(replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \'), \'"\') = 0) THEN '
    'replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    'group_concat(value, \'; \') FROM json_each(authors)) END, \'"\', \'""\') || \'"\' ELSE CASE WHEN '
    '(substr(authors, 1, 2) = \'["\' AND substr(authors, -2) = \'"]\' AND instr(authors, \'\\\') = 0 '
    'AND instr(replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \'), \'"\') = 0) THEN '
    'replace(substr(authors, 3, length(authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    "group_concat(value, '; ') FROM json_each(authors)) END END, CASE WHEN instr(abstract, ',') OR "
    'instr(abstract, \'"\') OR instr(abstract, char(10)) OR instr(abstract, char(13)) THEN \'"\' || '
    'replace(abstract, \'"\', \'""\') || \'"\' ELSE abstract END, CASE WHEN substr(published, 11, 1) = '
    "' ' AND length(published) >= 19 THEN substr(published, 1, 10) || 'T' || substr(published, 12, 8) "
    "|| '+00:00' ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', published) END, CASE WHEN substr(updated, 11, "
    "1) = ' ' AND length(updated) >= 19 THEN substr(updated, 1, 10) || 'T' || substr(updated, 12, 8) || "
    "'+00:00' ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', updated) END, CASE WHEN instr(CASE WHEN "
    '(substr(categories, 1, 2) = \'["\' AND substr(categories, -2) = \'"]\' AND instr(categories, '
    '\'\\\') = 0 AND instr(replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \'), '
    '\'"\') = 0) THEN replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \') ELSE '
    "(SELECT group_concat(value, '; ') FROM json_each(categories)) END, ',') OR instr(CASE WHEN "
    '(substr(categories, 1, 2) = \'["\' AND substr(categories, -2) = \'"]\' AND instr(categories, '
    '\'\\\') = 0 AND instr(replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \'), '
    '\'"\') = 0) THEN replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \') ELSE '
    '(SELECT group_concat(value, \'; \') FROM json_each(categories)) END, \'"\') OR instr(CASE WHEN '
    '(substr(categories, 1, 2) = \'["\' AND substr(categories, -2) = \'"]\' AND instr(categories, '
    '\'\\\') = 0 AND instr(replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \'), '
    '\'"\') = 0) THEN replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \') ELSE '
    "(SELECT group_concat(value, '; ') FROM json_each(categories)) END, char(10)) OR instr(CASE WHEN "
    '(substr(categories, 1, 2) = \'["\' AND substr(categories, -2) = \'"]\' AND instr(categories, '
    '\'\\\') = 0 AND instr(replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \'), '
    '\'"\') = 0) THEN replace(substr(categories, 3, length(categories) - 4), \'", "\', \'; \') ELSE '
    '(SELECT group_concat(value, \'; \') FROM json_each(categories)) END, char(13)) THEN \'"\' || '
    'replace(CASE WHEN (substr(categories, 1, 2) = \'["\' AND substr(categories, -2) = \'"]\' AND '
    "instr(categories, '\\') = 0 AND instr(replace(substr(categories, 3, length(categories) - 4), "
    '\'", "\', \'; \'), \'"\') = 0) THEN replace(substr(categories, 3, length(categories) - 4), \'", '
    '"\', \'; \') ELSE (SELECT group_concat(value, \'; \') FROM json_each(categories)) END, \'"\', '
    '\'""\') || \'"\' ELSE CASE WHEN (substr(categories, 1, 2) = \'["\' AND substr(categories, -2) = '
    '\'"]\' AND instr(categories, \'\\\') = 0 AND instr(replace(substr(categories, 3, '
    'length(categories) - 4), \'", "\', \'; \'), \'"\') = 0) THEN replace(substr(categories, 3, '
    'length(categories) - 4), \'", "\', \'; \') ELSE (SELECT group_concat(value, \'; \') FROM '
    "json_each(categories)) END END, CASE WHEN instr(primary_category, ',') OR instr(primary_category, "
    '\'"\') OR instr(primary_category, char(10)) OR instr(primary_category, char(13)) THEN \'"\' || '
    'replace(primary_category, \'"\', \'""\') || \'"\' ELSE primary_category END, CASE WHEN '
    'instr(comment, \',\') OR instr(comment, \'"\') OR instr(comment, char(10)) OR instr(comment, '
    'char(13)) THEN \'"\' || replace(comment, \'"\', \'""\') || \'"\' ELSE comment END, CASE WHEN '
    'instr(journal_ref, \',\') OR instr(journal_ref, \'"\') OR instr(journal_ref, char(10)) OR '
    'instr(journal_ref, char(13)) THEN \'"\' || replace(journal_ref, \'"\', \'""\') || \'"\' ELSE '
    'journal_ref END, CASE WHEN instr(doi, \',\') OR instr(doi, \'"\') OR instr(doi, char(10)) OR '
    'instr(doi, char(13)) THEN \'"\' || replace(doi, \'"\', \'""\') || \'"\' ELSE doi END)')
POSTGRES_HEAD = (
    "coalesce(NEW.arxiv_id, '') || ',' || coalesce(NEW.version::text, '') || ',' || coalesce(CASE WHEN "
    'NEW.title ~ (\'[,"\' || chr(10) || chr(13) || \']\') THEN \'"\' || replace(NEW.title, \'"\', '
    '\'""\') || \'"\' ELSE NEW.title END, \'\') || \',\' || coalesce(CASE WHEN CASE WHEN '
    'left(NEW.authors, 2) = \'["\' AND right(NEW.authors, 2) = \'"]\' AND strpos(NEW.authors, \'\\\') = '
    '0 AND strpos(replace(substr(NEW.authors, 3, length(NEW.authors) - 4), \'", "\', \'; \'), \'"\') = '
    '0 THEN replace(substr(NEW.authors, 3, length(NEW.authors) - 4), \'", "\', \'; \') ELSE (SELECT '
    "string_agg(e.value, '; ' ORDER BY e.n) FROM json_array_elements_text((NEW.authors)::json) WITH "
    'ORDINALITY AS e(value, n)) END ~ (\'[,"\' || chr(10) || chr(13) || \']\') THEN \'"\' || '
    'replace(CASE WHEN left(NEW.authors, 2) = \'["\' AND right(NEW.authors, 2) = \'"]\' AND '
    "strpos(NEW.authors, '\\') = 0 AND strpos(replace(substr(NEW.authors, 3, length(NEW.authors) - 4), "
    '\'", "\', \'; \'), \'"\') = 0 THEN replace(substr(NEW.authors, 3, length(NEW.authors) - 4), \'", '
    '"\', \'; \') ELSE (SELECT string_agg(e.value, \'; \' ORDER BY e.n) FROM '
    'json_array_elements_text((NEW.authors)::json) WITH ORDINALITY AS e(value, n)) END, \'"\', \'""\') '
    '|| \'"\' ELSE CASE WHEN left(NEW.authors, 2) = \'["\' AND right(NEW.authors, 2) = \'"]\' AND '
    "strpos(NEW.authors, '\\') = 0 AND strpos(replace(substr(NEW.authors, 3, length(NEW.authors) - 4), "
    '\'", "\', \'; \'), \'"\') = 0 THEN replace(substr(NEW.authors, 3, length(NEW.authors) - 4), \'", '
    '"\', \'; \') ELSE (SELECT string_agg(e.value, \'; \' ORDER BY e.n) FROM '
    "json_array_elements_text((NEW.authors)::json) WITH ORDINALITY AS e(value, n)) END END, '') || ',' "
    '|| coalesce(CASE WHEN NEW.abstract ~ (\'[,"\' || chr(10) || chr(13) || \']\') THEN \'"\' || '
    'replace(NEW.abstract, \'"\', \'""\') || \'"\' ELSE NEW.abstract END, \'\') || \',\' || '
    'coalesce(to_char(NEW.published, \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\'), \'\') || \',\' || '
    'coalesce(to_char(NEW.updated, \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\'), \'\') || \',\' || '
    'coalesce(CASE WHEN CASE WHEN left(NEW.categories, 2) = \'["\' AND right(NEW.categories, 2) = '
    '\'"]\' AND strpos(NEW.categories, \'\\\') = 0 AND strpos(replace(substr(NEW.categories, 3, '
    'length(NEW.categories) - 4), \'", "\', \'; \'), \'"\') = 0 THEN replace(substr(NEW.categories, 3, '
    'length(NEW.categories) - 4), \'", "\', \'; \') ELSE (SELECT string_agg(e.value, \'; \' ORDER BY '
    'e.n) FROM json_array_elements_text((NEW.categories)::json) WITH ORDINALITY AS e(value, n)) END ~ '
    '(\'[,"\' || chr(10) || chr(13) || \']\') THEN \'"\' || replace(CASE WHEN left(NEW.categories, 2) = '
    '\'["\' AND right(NEW.categories, 2) = \'"]\' AND strpos(NEW.categories, \'\\\') = 0 AND '
    'strpos(replace(substr(NEW.categories, 3, length(NEW.categories) - 4), \'", "\', \'; \'), \'"\') = '
    '0 THEN replace(substr(NEW.categories, 3, length(NEW.categories) - 4), \'", "\', \'; \') ELSE '
    "(SELECT string_agg(e.value, '; ' ORDER BY e.n) FROM "
    'json_array_elements_text((NEW.categories)::json) WITH ORDINALITY AS e(value, n)) END, \'"\', '
    '\'""\') || \'"\' ELSE CASE WHEN left(NEW.categories, 2) = \'["\' AND right(NEW.categories, 2) = '
    '\'"]\' AND strpos(NEW.categories, \'\\\') = 0 AND strpos(replace(substr(NEW.categories, 3, '
    'length(NEW.categories) - 4), \'", "\', \'; \'), \'"\') = 0 THEN replace(substr(NEW.categories, 3, '
    'length(NEW.categories) - 4), \'", "\', \'; \') ELSE (SELECT string_agg(e.value, \'; \' ORDER BY '
    'e.n) FROM json_array_elements_text((NEW.categories)::json) WITH ORDINALITY AS e(value, n)) END '
    'END, \'\') || \',\' || coalesce(CASE WHEN NEW.primary_category ~ (\'[,"\' || chr(10) || chr(13) || '
    '\']\') THEN \'"\' || replace(NEW.primary_category, \'"\', \'""\') || \'"\' ELSE '
    'NEW.primary_category END, \'\') || \',\' || coalesce(CASE WHEN NEW.comment ~ (\'[,"\' || chr(10) '
    '|| chr(13) || \']\') THEN \'"\' || replace(NEW.comment, \'"\', \'""\') || \'"\' ELSE NEW.comment '
    'END, \'\') || \',\' || coalesce(CASE WHEN NEW.journal_ref ~ (\'[,"\' || chr(10) || chr(13) || '
    '\']\') THEN \'"\' || replace(NEW.journal_ref, \'"\', \'""\') || \'"\' ELSE NEW.journal_ref END, '
    '\'\') || \',\' || coalesce(CASE WHEN NEW.doi ~ (\'[,"\' || chr(10) || chr(13) || \']\') THEN \'"\' '
    '|| replace(NEW.doi, \'"\', \'""\') || \'"\' ELSE NEW.doi END, \'\')')

SQLITE = [
    "CREATE TRIGGER papers_csv_insert AFTER INSERT ON papers BEGIN "
    f"UPDATE papers SET csv_fields = {SQLITE_HEAD} WHERE rowid = new.rowid; END",
    f"CREATE TRIGGER papers_csv_update AFTER UPDATE OF {COLUMNS} ON papers BEGIN "
    f"UPDATE papers SET csv_fields = {SQLITE_HEAD} WHERE rowid = new.rowid; END",
    f"UPDATE papers SET csv_fields = {SQLITE_HEAD}",
    # the export's and the browse's order (PostgreSQL has had it since 0010): no sort, no temp B-tree
    "CREATE INDEX IF NOT EXISTS ix_papers_newest ON papers (published DESC, arxiv_id DESC)",
]
POSTGRES = [
    "CREATE FUNCTION papers_csv_fields() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"NEW.csv_fields := {POSTGRES_HEAD}; RETURN NEW; END $$",
    f"CREATE TRIGGER papers_csv_fields BEFORE INSERT OR UPDATE OF {COLUMNS} ON papers "
    "FOR EACH ROW EXECUTE FUNCTION papers_csv_fields()",
    "UPDATE papers SET version = version",  # fires the trigger on every stored row (not the search column)
    # always empty while the trigger runs: the export sees at once whether it may read csv_fields alone
    "CREATE INDEX ix_papers_csv_missing ON papers (arxiv_id) WHERE csv_fields IS NULL",
]


def upgrade() -> None:
    # a plain ALTER TABLE: a batch copy of papers on SQLite would drop its search triggers (0005)
    op.add_column("papers", sa.Column("csv_fields", sa.Text(), nullable=True))
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+; no table copy, the search triggers stay
        op.execute("DROP INDEX IF EXISTS ix_papers_newest")
        op.execute("DROP TRIGGER IF EXISTS papers_csv_update")
        op.execute("DROP TRIGGER IF EXISTS papers_csv_insert")
        op.execute("ALTER TABLE papers DROP COLUMN csv_fields")
        return
    op.execute("DROP INDEX IF EXISTS ix_papers_csv_missing")
    op.execute("DROP TRIGGER IF EXISTS papers_csv_fields ON papers")
    op.execute("DROP FUNCTION IF EXISTS papers_csv_fields()")
    op.drop_column("papers", "csv_fields")
