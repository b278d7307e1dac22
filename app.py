"""Streamlit entry point of the qualcode review app.

Start it with `qualcode app [--db FILE]`, or `streamlit run app.py -- --db FILE`.
"""
from qualcode.app.main import main

main()
