"""The Playground's subject: a linear softmax (or hinge) classifier on 2-D points.

    data.py      seeded presets on the plane, and the edits a user makes to them
    model.py     S = X W^T + b, the loss and its gradient side by side, steps, training
    grid.py      the class regions, a probability map and each class's zero-score line
    urlstate.py  the whole state <-> URL query parameters, repaired, never raising
    view.py      one state in, everything the page shows out (computed once)

No Streamlit here: the page's widgets and callbacks are ui/playground_state.py.
"""
