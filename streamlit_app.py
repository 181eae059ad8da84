"""Router: page config, navigation over pages/, and the sidebar every page shares."""
import streamlit as st

st.set_page_config(
    page_title="Softmax Classifiers, Explained",
    page_icon=":material/functions:",
    layout="wide",
)

PAGES = [
    st.Page("pages/explain.py", title="Explain", icon=":material/calculate:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/classify.py", title="Classify", icon=":material/image_search:"),
]

page = st.navigation(PAGES)

with st.sidebar:
    st.caption(
        "Based on the PyImageSearch post *Softmax Classifiers Explained* (2016). "
        "**Explain** the maths, **Train** the post's Dogs vs Cats experiment, "
        "**Classify** your own images."
    )

page.run()
