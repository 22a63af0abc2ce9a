"""approval_notices: who was told of each approval step, once (a retry or a second scheduler skips them)

Revision ID: 0024_approval_notices
Revises: 0023_mailing_approvals
Create Date: 2026-12-05 13:07:13.162711

"""
import sqlalchemy as sa
from alembic import op

import dbtypes


# revision identifiers, used by Alembic.
revision = '0024_approval_notices'
down_revision = '0023_mailing_approvals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'approval_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('approval_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('sent_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['approval_id'], ['mailing_approvals.id'],
            name=op.f('fk_approval_notices_approval_id_mailing_approvals'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_approval_notices_user_id_users'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_notices')),
        sa.UniqueConstraint('approval_id', 'email', name='uq_approval_notices_person'),
    )


def downgrade():
    op.drop_table('approval_notices')
