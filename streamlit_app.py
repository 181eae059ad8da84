"""Entry point: `streamlit run streamlit_app.py`. The router itself is in ui/router.py."""

from ui.router import navigation

navigation().run()
