"""Keep deep links (/train, /classify) going through the router.

Because the page files live in a folder named `pages/`, Streamlit runs a
deep-linked page file on its own (its older pages-folder mode) until
`st.navigation` has run once in the server process. The page would then miss
the router's layout and sidebar. Each page calls `ensure_router()` first: in
that case it switches the process to `st.navigation` mode and reruns, so the
router runs and opens the same page.
"""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_router() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets
        st.rerun()
