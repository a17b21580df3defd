"""Entry script of the lab (``streamlit run``): a sidebar picks the page."""

import streamlit as st

from meanfolio.lab import games_page, kinetic_page, mfg_page, optimizer_page, risk_page

PAGES = {
    "Mean-field game": mfg_page.render,
    "Kinetic market": kinetic_page.render,
    "Optimizer": optimizer_page.render,
    "Risk and regimes": risk_page.render,
    "Games": games_page.render,
}

st.set_page_config(page_title="meanfolio lab", page_icon=":material/insights:", layout="wide")
st.sidebar.title("meanfolio lab")
page = st.sidebar.radio("Page", list(PAGES), key="page")
st.sidebar.caption("Mean-field models of portfolios and markets. Every number comes from the meanfolio library.")
PAGES[page]()
