"""NiceGUI pages, one module per route."""
