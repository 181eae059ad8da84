import streamlit as st

st.title("Explain")
st.info("This page is not built yet: its issue has not landed.")
