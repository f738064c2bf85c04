"""Renderers for audits, diffs, blame and history: text, JSON, Markdown and self-contained HTML.

``base`` holds what they share (the terminal and HTML escaping rule, the stylesheet, the CSP,
the page frame); ``audit`` renders audit reports; ``diff`` renders diffs, blame and history.
"""
