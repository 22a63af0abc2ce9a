"""mailing_approvals: the history of each mailing's approval (who, when, what was said, what text)

Revision ID: 0023_mailing_approvals
Revises: 0022_subscription_choices
Create Date: 2026-12-05 09:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

import dbtypes


# revision identifiers, used by Alembic.
revision = '0023_mailing_approvals'
down_revision = '0022_subscription_choices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mailing_approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailing_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=254), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('covers', sa.JSON(), nullable=False),
        sa.Column('covered_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('announced_at', dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['mailing_id'], ['mailings.id'], name=op.f('fk_mailing_approvals_mailing_id_mailings'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['covered_by_id'], ['mailings.id'], name=op.f('fk_mailing_approvals_covered_by_id_mailings'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_mailing_approvals_user_id_users'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mailing_approvals')),
    )
    with op.batch_alter_table('mailing_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailing_approvals_mailing_id'), ['mailing_id'], unique=False)
        batch_op.create_index(
            'ix_mailing_approvals_unannounced', ['id'], unique=False,
            postgresql_where=sa.text('announced_at IS NULL'), sqlite_where=sa.text('announced_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('mailing_approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_mailing_approvals_unannounced')
        batch_op.drop_index(batch_op.f('ix_mailing_approvals_mailing_id'))
    op.drop_table('mailing_approvals')
