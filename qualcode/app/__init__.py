"""The Streamlit review app (Norwegian UI). Entry point: `app.py` at the repository root, started by `qualcode app`."""
