"""Shared code without models: settings helpers, the working calendar, demo registry, scoping."""
