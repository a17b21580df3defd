"""Entry script of the lab (``streamlit run``): a sidebar picks the page.

Everything the browser loads comes from the lab's own server: the page icon is an image made here (a
Material icon name would make the browser fetch it from fonts.gstatic.com), usage statistics are off.
"""

import numpy as np
import streamlit as st
from PIL import Image

from meanfolio.lab import games_page, kinetic_page, mfg_page, optimizer_page, risk_page

PAGES = {
    "Mean-field game": mfg_page.render,
    "Kinetic market": kinetic_page.render,
    "Optimizer": optimizer_page.render,
    "Risk and regimes": risk_page.render,
    "Games": games_page.render,
}


def icon() -> Image.Image:
    """A 32 x 32 icon drawn here: a rising line on a blue square (served by the lab itself)."""
    pixels = np.zeros((32, 32, 3), dtype=np.uint8)
    pixels[:] = (31, 119, 180)
    for x in range(4, 28):
        y = 27 - (x - 4) * 22 // 24
        pixels[max(y - 1, 0) : y + 2, x] = (255, 255, 255)
    return Image.fromarray(pixels)


st.set_page_config(page_title="meanfolio lab", page_icon=icon(), layout="wide")
st.sidebar.title("meanfolio lab")
page = st.sidebar.radio("Page", list(PAGES), key="page")
st.sidebar.caption("Mean-field models of portfolios and markets. Every number comes from the meanfolio library.")
PAGES[page]()
