// Package interop holds the tests that check abscopal's Parquet and CSV files
// against other implementations: DuckDB (npm @duckdb/node-api, installed by
// .ci/run or by "npm ci --prefix interop"), the FHIR resources against
// FHIR.js's R4 validator (npm fhir, installed the same way) and pandas (Debian's
// python3-pandas, installed by .ci/run). Without them the tests skip,
// unless ABSCOPAL_REQUIRE_INTEROP=1, as in CI, makes them fail instead.
package interop
