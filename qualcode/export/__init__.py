"""Reports (HTML, Excel, CSV) and REFI-QDA exchange files (.qdpx, .qdc), export and import."""
