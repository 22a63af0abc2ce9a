"""The schema comes from the migrations, and the migrations agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from extensions import db
from migrations_filter import include_name


def test_migrations_build_every_model_table(app):
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations; run `flask --app app db migrate`: {diff}"


def test_migrations_have_a_single_head(app):
    """`flask db upgrade` (what `make run` does) needs exactly one head."""
    from alembic.script import ScriptDirectory

    migrate = app.extensions["migrate"]
    heads = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; set one's down_revision to the other"


def test_the_worker_index_holds_only_claimed_deliveries(app):
    """Partial on both engines (compare_metadata does not read index predicates): a result, which
    hands the row back, writes nothing to it, and recovery still finds a worker's claims through it."""
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        found = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_deliveries_worker'"
        plan = "EXPLAIN UPDATE deliveries SET worker_id = NULL WHERE worker_id = 3"
    else:
        found = "SELECT sql FROM sqlite_master WHERE name = 'ix_deliveries_worker'"
        plan = "EXPLAIN QUERY PLAN UPDATE deliveries SET worker_id = NULL WHERE worker_id = 3"
    with db.engine.connect() as conn:
        assert "worker_id IS NOT NULL" in conn.execute(text(found)).scalar_one()
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
        assert "ix_deliveries_worker" in " ".join(str(row) for row in conn.execute(text(plan)))
