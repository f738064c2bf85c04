"""Renderers for audits and diffs: text, JSON, Markdown and self-contained HTML."""
