"""contacts: an index on city, so the city filter lists the cities in use one index entry at a time

Revision ID: 0025_contact_city_index
Revises: 0024_approval_notices
Create Date: 2026-12-06 10:00:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0025_contact_city_index"
down_revision = "0024_approval_notices"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.create_index("ix_contacts_city", ["city"], unique=False)


def downgrade():
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_index("ix_contacts_city")
