// fhir_validate.mjs validates FHIR R4 resources with FHIR.js (npm fhir),
// against the R4 (4.0.0) structure definitions and value sets it carries:
// every property known, every cardinality and type, every required code.
// It reads one resource per line (NDJSON) from the file named and prints,
// per line, {"valid": bool, "messages": [...]} as JSON, one per line.
//   node fhir_validate.mjs resources.ndjson
import fs from 'node:fs';
import fhirpkg from 'fhir';

const { Fhir } = fhirpkg;
const fhir = new Fhir();
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim() !== '');
for (const line of lines) {
  const r = fhir.validate(JSON.parse(line), { errorOnUnexpected: true });
  const messages = r.messages.filter((m) => m.severity === 'error').map((m) => m.location + ': ' + m.message);
  console.log(JSON.stringify({ valid: r.valid && messages.length === 0, messages }));
}
