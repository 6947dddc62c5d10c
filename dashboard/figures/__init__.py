"""Plotly figures, one module per page (plain Python, no Streamlit); `_style` holds the shared theme."""
