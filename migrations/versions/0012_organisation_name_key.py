"""organisations: a folded name key, so names match case and accents aside on every engine

Revision ID: 0012_organisation_name_key
Revises: 0011_campaign_brand
Create Date: 2026-12-05 06:40:00

SQLite's lower() folds only ASCII letters: "Écho Solidaire" was not found again and a second one
was inserted (unique constraint, 500). The key is matching.fold(name), computed in Python for
existing rows; organisations that were the same name apart from case or accents are merged into
the oldest one (their contacts move to it) before the key is made unique.
"""
import sqlalchemy as sa
from alembic import op

from matching import fold

revision = '0012_organisation_name_key'
down_revision = '0011_campaign_brand'
branch_labels = None
depends_on = None

organisations = sa.table('organisations', sa.column('id', sa.Integer), sa.column('name', sa.String),
                         sa.column('name_key', sa.String))
contacts = sa.table('contacts', sa.column('organisation_id', sa.Integer))


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
    bind = op.get_bind()
    kept: dict[str, int] = {}
    for row in bind.execute(sa.select(organisations.c.id, organisations.c.name).order_by(organisations.c.id)).all():
        key = fold(row.name)[:200]
        if key in kept:
            bind.execute(contacts.update().where(contacts.c.organisation_id == row.id).values(organisation_id=kept[key]))
            bind.execute(organisations.delete().where(organisations.c.id == row.id))
            continue
        kept[key] = row.id
        bind.execute(organisations.update().where(organisations.c.id == row.id).values(name_key=key))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_organisations_name_key'), ['name_key'])


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organisations_name_key'), type_='unique')
        batch_op.drop_column('name_key')
