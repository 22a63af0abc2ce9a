"""Which database objects Alembic manages: ours, not those other tools create beside them."""

FOREIGN_TABLES = {"apscheduler_jobs"}
ENGINE_INDEXES = {"ix_contacts_search_trgm"}  # PostgreSQL-only indexes made by their migration (0008)


def include_name(name, type_, parent_names) -> bool:
    if type_ == "table":
        return name not in FOREIGN_TABLES
    if type_ == "index":
        return name not in ENGINE_INDEXES
    return True
