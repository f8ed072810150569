"""pandas_roundtrip.py IN.csv OUT.csv [SEP DECIMAL]: read a CSV with pandas'
defaults and write it back with pandas' defaults, as a notebook user would
(pd.read_csv(...).to_csv(..., index=False)), or with the separator and
decimal mark given (";" and ",": a CSV for Excel where the decimal mark is
a comma). Integer columns with nulls come back as floats (5.0), booleans
with nulls as True/False, nulls as empty fields: the conventions abscopal
must read."""
import sys

import pandas as pd

df = pd.read_csv(sys.argv[1])
if len(sys.argv) > 3:
    df.to_csv(sys.argv[2], index=False, sep=sys.argv[3], decimal=sys.argv[4])
else:
    df.to_csv(sys.argv[2], index=False)
print(pd.__version__)
