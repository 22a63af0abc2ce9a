"""Which database objects Alembic manages: ours, not those other tools create beside them."""

FOREIGN_TABLES = {"apscheduler_jobs"}


def include_name(name, type_, parent_names) -> bool:
    if type_ == "table":
        return name not in FOREIGN_TABLES
    return True
