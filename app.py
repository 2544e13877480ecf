"""Entry point for ``streamlit run app.py``: the pages (``main_page.py``) and one route of our own.

``/api/backup/<one-time token>`` streams a backup file to an administrator (``backup_route.py``):
Streamlit's download button would hold the whole file in the server's memory.
"""

import streamlit as st

from backup_route import ROUTES
from qr_route import ROUTES as QR_ROUTES

app = st.App("main_page.py", routes=ROUTES + QR_ROUTES)
