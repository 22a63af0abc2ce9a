"""Organisations, contacts, lists, segments, import/export, consent, suppression."""
