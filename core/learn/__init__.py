"""Learning: the post's classifier from features to a saved model.

config.py         TrainConfig and the choices the app offers
features.py       a folder's features, in parallel, through the disk cache
feature_cache.py  the disk cache (atomic chunks, no pickle)
train.py          one road for arrays, one for folders -> TrainRun
evaluate.py       the report, probability gaps, reliability, confusion cells
beyond.py         better-founded models on the same split
model.py          SavedModel: plain arrays + JSON, never a pickle
saved.py          saved models in the data folder, described
classify.py       one uploaded image: features, scores, probabilities, why
workers.py        the worker process that trains for the server
lock.py           one training of a dataset at a time, across processes
"""
