"""Tables of the pages, one module per page (plain pandas, no Streamlit)."""
