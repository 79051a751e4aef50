"""The large generated community that speed is measured on (`manage.py scale_data`).

Its parts write their rows in bulk (see `rows.RowWriter`), each made the way the app's
services would make it; `generator.Generator` runs them in order."""
