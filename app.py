"""Entry point: page config and the pages this visitor's role may see (st.navigation)."""

import streamlit as st

st.set_page_config(page_title="Khảo sát mức độ hài lòng", page_icon="🙂", layout="centered",
                   initial_sidebar_state="collapsed")

kiosk = st.Page("app_pages/kiosk.py", title="Khảo sát", url_path="kiosk", default=True)
st.navigation([kiosk], position="hidden").run()
