"""The subject of the app, without Streamlit: the maths, images, data, learning, charts.

Importing any part of core first puts OpenCV's own decoder limit in force. OpenCV reads
OPENCV_IO_MAX_IMAGE_PIXELS once, when cv2 is first imported, and every entry point
(the app, its pages, the worker process, the command line) imports core before cv2, so
the limit holds whatever module is imported first. It is the second guard: the first is
core.images, which refuses an image whose header does not give a size within the limit
before a pixel is decoded.
"""

import os

MAX_PIXELS = 50_000_000  # 50 megapixels: far above any photo a colour histogram needs

_operator_limit = os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", "")
# An operator may set a lower limit, never a higher one.
os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = str(
    min(int(_operator_limit), MAX_PIXELS) if _operator_limit.isdigit() else MAX_PIXELS
)
