"""Data: datasets in a folder, the data-folder boundary, zip import, download, demo set.

dataset.py    the three layouts; every file listed once, inside the boundary
library.py    the data folder's datasets by name (never a path); adding a zip
archive.py    unpacking a zip without trusting it
download.py   Microsoft's Kaggle Cats and Dogs, streamed and resumable
demo.py       a small synthetic set, always labelled synthetic
"""
