"""milestone anchors: dates that move together, and the weekend / public holiday override

Revision ID: 0021_milestone_anchors
Revises: 0020_sender_identities
Create Date: 2026-12-05 09:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021_milestone_anchors'
down_revision = '0020_sender_identities'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('offset_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allow_weekend', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_milestones_anchor_id'), ['anchor_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_milestones_anchor_id_milestones'), 'milestones', ['anchor_id'], ['id'], ondelete='SET NULL'
        )


def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_milestones_anchor_id_milestones'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_milestones_anchor_id'))
        batch_op.drop_column('allow_weekend')
        batch_op.drop_column('offset_days')
        batch_op.drop_column('anchor_id')
