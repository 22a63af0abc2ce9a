"""contact search: a trigram index on PostgreSQL

Revision ID: 0008_contact_search_trigrams
Revises: 0007_event_updated_at
Create Date: 2026-11-29 14:30:00

The contacts page searches `search_text` with LIKE '%word%', which no b-tree can serve: at 100,000
contacts a national search read the whole table. pg_trgm's GIN index serves such patterns (words of
three letters or more). PostgreSQL only (pg_trgm is a trusted extension: the database owner may
create it); SQLite keeps scanning, as it does for the one-machine set-up. Not declared on the model,
so migrations_filter keeps Alembic's comparison from asking for it on SQLite.
"""
from alembic import op


revision = '0008_contact_search_trigrams'
down_revision = '0007_event_updated_at'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_contacts_search_trgm ON contacts USING gin (search_text gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_contacts_search_trgm")
