# SPDX-License-Identifier: MIT
"""The demo that `make run` starts: a small tasklet-based game server.

Clients connect over TCP and speak a line protocol (``NAME``, ``SAY``,
``MOVE``, ``WHO``, ``QUIT``); the server runs one tasklet per client and one
for the world's clock, on pyhost's hub.  Its native engine,
:mod:`pyhost.demo._leakygame`, leaks on purpose, so the console's Leaks and
Memory pages have something real to show.  ``python -m pyhost.demo`` starts
the server; ``python -m pyhost.demo.client`` runs a few bots against it.
"""
