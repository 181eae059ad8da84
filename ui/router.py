"""The router: page config, navigation over pages/, and the sidebar every page shares.

Because the page files live in a folder named `pages/`, Streamlit runs a page
file on its own (its older pages-folder mode) when it is deep-linked before
`st.navigation` has run in the server process (and on every AppTest run). The
page would then miss this layout and the sidebar, and the sidebar would list
file names. Each page calls `ensure_router()` first, which sets them up in place.
"""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

PAGES = (
    ("pages/explain.py", "Explain", ":material/calculate:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/classify.py", "Classify", ":material/image_search:"),
)


def navigation():
    """Set up the app's frame and return the page the user asked for."""
    st.set_page_config(
        page_title="Softmax Classifiers, Explained",
        page_icon=":material/functions:",
        layout="wide",
    )
    pages = [st.Page(path, title=title, icon=icon, default=(i == 0))
             for i, (path, title, icon) in enumerate(PAGES)]
    page = st.navigation(pages)
    with st.sidebar:
        st.caption(
            "Based on the PyImageSearch post *Softmax Classifiers Explained* (2016). "
            "**Explain** the maths, **Train** the post's Dogs vs Cats experiment, "
            "**Classify** your own images."
        )
    return page


def ensure_router() -> None:
    """Called first by every page: set up the frame if the router did not run."""
    if PagesManager.uses_pages_directory:
        navigation()
