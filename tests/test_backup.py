"""Back up, wipe, restore: nothing is lost, on either engine."""

from sqlalchemy import func, select, text

from campaign.models import Milestone
from extensions import db
from tests.conftest import wipe


def test_backup_wipe_restore_keeps_everything(app, runner, demo_campaign, tmp_path):
    before = db.session.scalar(select(func.count(Milestone.id)))
    titles = sorted(db.session.scalars(select(Milestone.title)))
    target = tmp_path / "relais.backup"
    made = runner.invoke(args=["backup", "create", str(target)])
    assert made.exit_code == 0, made.output
    assert target.stat().st_size > 0
    db.session.remove()
    wipe(app)
    assert db.session.scalar(select(func.count(Milestone.id))) == 0
    db.session.remove()
    restored = runner.invoke(args=["backup", "restore", "--yes", str(target)])
    assert restored.exit_code == 0, restored.output
    assert db.session.scalar(select(func.count(Milestone.id))) == before
    assert sorted(db.session.scalars(select(Milestone.title))) == titles
    assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_restore_of_a_missing_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["backup", "restore", "--yes", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "does not exist" in result.output
