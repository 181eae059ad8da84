"""The router: page config, navigation over pages/, and the sidebar every page shares.

Because the page files live in a folder named `pages/`, Streamlit runs a page
file on its own (its older pages-folder mode) when it is deep-linked before
`st.navigation` has run in the server process, and on every AppTest run. The
page would then miss this layout and the sidebar, and the sidebar would list
file names. Every page calls `ensure_router()` first to put that right.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

PAGES = (
    ("pages/explain.py", "Explain", ":material/calculate:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/classify.py", "Classify", ":material/image_search:"),
    ("pages/playground.py", "Playground", ":material/scatter_plot:"),
)
_RAN = "_router_ran"  # session flag: the router has run at least once in this session
# Widgets whose values survive a visit to another page (Streamlit forgets a widget's
# value when a run does not draw it): the Train page's dataset and settings, the
# Classify page's model and threshold.
KEPT_WIDGETS = (
    "dataset",
    "bins",
    "fast",
    "test_size",
    "split_seed",
    "sgd_seed",
    "epochs",
    "alpha",
    "saved_model",
    "threshold",
    "use_camera",
)


def navigation():
    """Set up the app's frame and return the page the user asked for."""
    st.set_page_config(
        page_title="Softmax Classifiers, Explained",
        page_icon=":material/functions:",
        layout="wide",
    )
    pages = [
        st.Page(path, title=title, icon=icon, default=(i == 0)) for i, (path, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    st.session_state[_RAN] = True
    _keep_widget_values()
    with st.sidebar:
        st.caption(
            "Based on the PyImageSearch post *Softmax Classifiers Explained* (2016). "
            "**Explain** the maths, **Train** the post's Dogs vs Cats experiment, "
            "**Classify** your own images, and watch a classifier learn in the **Playground**."
        )
    return page


def ensure_router() -> None:
    """Called first by every page: make sure the router has set up this run."""
    if not PagesManager.uses_pages_directory:
        return  # the router ran this page
    if not st.session_state.get(_RAN):
        # A deep link on a fresh server: nothing the user did can be lost yet, so
        # switch the process to st.navigation and rerun through the router.
        PagesManager.uses_pages_directory = False
        st.rerun()
    # AppTest puts every run back in pages-folder mode, and a rerun there would drop
    # the click that started it: set the frame up in place instead.
    navigation()


def _keep_widget_values() -> None:
    """Re-assigning a widget's key on every run makes its value the session's, not the
    widget's, so it is still there after the user has been on another page."""
    state = st.session_state
    for key in KEPT_WIDGETS:
        if key in state:
            state[key] = state[key]
