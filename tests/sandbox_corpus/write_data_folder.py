"""Writes a forged shard straight into the data folder."""

T = {}  # the corpus runner puts the targets here

with open(T["data"] + "/raw/part-forged.parquet", "wb") as fh:
    fh.write(b"PAR1 forged")
