"""sender_identities: the names and addresses each region and the national team send as

Revision ID: 0020_sender_identities
Revises: 0019_contact_civility_city
Create Date: 2026-12-05 09:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

import dbtypes


# revision identifiers, used by Alembic.
revision = '0020_sender_identities'
down_revision = '0019_contact_civility_city'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sender_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('reply_to', sa.String(length=254), nullable=False),
        sa.Column('created_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_sender_identities_region_id_regions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sender_identities')),
    )
    with op.batch_alter_table('sender_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sender_identities_region_id'), ['region_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sender_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sender_identities_region_id'))
    op.drop_table('sender_identities')
