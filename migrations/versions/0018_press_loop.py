"""press loop: answers recorded by a person (channel, who, when; "maybe"), walk-ins, contact notes

Revision ID: 0018_press_loop
Revises: 0017_user_campaign
Create Date: 2026-12-05 09:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

import dbtypes


# revision identifiers, used by Alembic.
revision = '0018_press_loop'
down_revision = '0017_user_campaign'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rsvps', schema=None) as batch_op:
        batch_op.alter_column('answer', existing_type=sa.String(length=3), type_=sa.String(length=5), existing_nullable=True)
        batch_op.add_column(sa.Column('channel', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_label', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('recorded_at', dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('walk_in', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_rsvps_recorded_by_id_users'), 'users', ['recorded_by_id'], ['id'], ondelete='SET NULL'
        )
    op.create_table(
        'contact_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_label', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_contact_notes_author_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_notes_contact_id_contacts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_contact_notes_region_id_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_notes')),
    )
    with op.batch_alter_table('contact_notes', schema=None) as batch_op:
        batch_op.create_index('ix_contact_notes_contact_at', ['contact_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_notes_contact_at')
    op.drop_table('contact_notes')
    with op.batch_alter_table('rsvps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rsvps_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('walk_in')
        batch_op.drop_column('recorded_at')
        batch_op.drop_column('recorded_by_label')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('channel')
        batch_op.alter_column('answer', existing_type=sa.String(length=5), type_=sa.String(length=3), existing_nullable=True)
