"""db/schema.py: the models describe exactly the schema the migrations build."""

from __future__ import annotations

from db.session import make_engine, upgrade


def test_schema_matches_the_models(any_db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.schema import Base, include_object

    engine = make_engine(any_db_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object,
                                                               "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_postgresql_keeps_a_weighted_search_vector(pg_url: str) -> None:
    """Migration 0010: a generated tsvector (title A, authors B, abstract C) with a GIN index, stop words
    kept and diacritics folded like SQLite's FTS5 tokenizer; 0009 takes it away again."""
    from sqlalchemy import text

    from db.session import downgrade

    engine = make_engine(pg_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO papers (arxiv_id, version, title, abstract, authors, "
                                "categories) VALUES ('2401.00001', 1, 'The Caching', 'Not pruned.', "
                                "'[\"Jürgen Müller\"]', '[]')"))
        vector = connection.execute(text("SELECT search::text FROM papers")).scalar_one()
        index = connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                        "'ix_papers_search'")).scalar_one()
    assert vector == "'cach':2A 'jurgen':3B 'muller':4B 'not':5C 'prune':6C 'the':1A"
    assert "USING gin (search)" in index
    downgrade(engine, "0009")
    with engine.connect() as connection:
        columns = connection.execute(text("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'papers'")).scalars().all()
    assert "search" not in columns and "title" in columns
    engine.dispose()


def test_the_columns_hold_what_is_stored() -> None:
    """SQLite never enforces a length (PostgreSQL does): a model version or a list's venue tag that does not
    fit would fail the whole stage there."""
    from classifier.model import CODE_VERSION, data_version
    from db.schema import ClassificationRow, ListEntryRow

    version = data_version([], seed=0)
    column = ClassificationRow.__table__.c.model_version
    assert version.startswith(f"{CODE_VERSION}@") and len(version) <= column.type.length
    assert getattr(ListEntryRow.__table__.c.venue.type, "length", None) is None  # any tag a list writes
