"""halp-bench results dashboard (Streamlit): `streamlit run dashboard/app.py`; see docs/dashboard.md."""
