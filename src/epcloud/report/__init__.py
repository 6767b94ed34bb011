"""A study report: one self-contained HTML page of plotly charts that opens offline."""

from epcloud.report.page import render_report

__all__ = ["render_report"]
