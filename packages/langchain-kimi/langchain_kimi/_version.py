"""The distribution version, kept equal to pyproject.toml (pinned by a test)."""

__version__ = "0.1.0"
