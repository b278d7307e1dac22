"""The script `qualcode app` hands to Streamlit (inside the package, so an installed qualcode has it)."""
from qualcode.app.main import main

main()
