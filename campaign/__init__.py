"""Regions, campaigns, milestones and the timeline rules, playbook, events, calendars."""
