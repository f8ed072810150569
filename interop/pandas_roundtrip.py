"""pandas_roundtrip.py IN.csv OUT.csv: read a CSV with pandas' defaults and
write it back with pandas' defaults, as a notebook user would
(pd.read_csv(...).to_csv(..., index=False)). Integer columns with nulls
come back as floats (5.0), booleans with nulls as True/False, nulls as
empty fields: the conventions abscopal must read."""
import sys

import pandas as pd

df = pd.read_csv(sys.argv[1])
df.to_csv(sys.argv[2], index=False)
print(pd.__version__)
