// Package interop holds the tests that check abscopal's Parquet files against
// another implementation, DuckDB (npm @duckdb/node-api, installed by
// .ci/run or by "npm ci --prefix interop"). Without DuckDB the tests skip,
// unless ABSCOPAL_REQUIRE_INTEROP=1, as in CI, makes them fail instead.
package interop
