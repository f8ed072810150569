// duckdb.mjs runs SQL statements in an in-memory DuckDB and prints the rows of
// the last one as JSON. The Go interop tests use it to have DuckDB read the
// Parquet files abscopal writes, and write files for abscopal to read.
//
//   node duckdb.mjs "COPY (...) TO 'x.parquet' (FORMAT parquet)" "SELECT count(*) FROM 'x.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';

const statements = process.argv.slice(2);
if (statements.length === 0) {
  console.error('usage: node duckdb.mjs SQL [SQL ...]');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
let rows = [];
for (const sql of statements) {
  const reader = await conn.runAndReadAll(sql);
  rows = reader.getRowObjectsJson();
}
process.stdout.write(JSON.stringify(rows));
