"""Plotly figure builders: pure functions, data in, figure out (no Streamlit here).

Every builder returns a figure on one convention (core.charts.figure): plain dicts that
Streamlit serialises as they are, validated by plotly in the unit tests.
"""
