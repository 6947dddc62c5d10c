"""Plotly figures, one module per page (plain Python, no Streamlit); `style` holds the shared theme."""
