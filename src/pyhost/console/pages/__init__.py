# SPDX-License-Identifier: MIT
"""The console's Python pages (the public API is pyhost.console). Each page
module has page_X(st, args) -> data (JSON-ready) and render_X(st, data) ->
HTML; dispatch.py routes."""
