"""Entry point for ``streamlit run app.py``: the pages (``main_page.py``) and routes of our own.

* ``/tablet/`` and ``/api/tablet/…``: the counter tablet's own web app (``tablet_web.py``), outside
  Streamlit's session and front end; its middleware sends old tablet bookmarks (``/?kiosk=1&device=…``) there;
* ``/q/<code>`` and ``/api/qr/<code>``: the survey on a citizen's own phone from a single-use QR code
  (the page from ``tablet_web.py``, the JSON from ``qr_route.py``);
* ``/api/backup/<one-time token>`` streams a backup file to an administrator (``backup_route.py``):
  Streamlit's download button would hold the whole file in the server's memory.
"""

import streamlit as st

import tablet_web
from backup_route import ROUTES
from qr_route import ROUTES as QR_ROUTES

ALL_ROUTES = ROUTES + tablet_web.ROUTES + QR_ROUTES
app = st.App("main_page.py", routes=ALL_ROUTES, middleware=tablet_web.MIDDLEWARE)
