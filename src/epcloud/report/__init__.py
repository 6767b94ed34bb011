"""A study report: one self-contained HTML page with inline SVG charts."""

from epcloud.report.page import render_report

__all__ = ["render_report"]
