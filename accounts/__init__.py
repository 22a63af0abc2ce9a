"""Users, roles, region scoping, API tokens, audit log."""
