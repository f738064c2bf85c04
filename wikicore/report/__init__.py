"""Renderers for audits, diffs, blame and history: text, JSON, Markdown and self-contained HTML.

``render`` is the one registry every caller goes through (what is rendered and the
format pick the renderer); ``base`` holds what renderers share (the terminal and
HTML escaping rule, the stylesheet, the CSP, the page frame); ``audit`` renders
audit reports; ``diff`` renders diffs, blame and history.
"""
