// Validates AsyncAPI documents with the AsyncAPI parser (schema and semantic rules); fails on any error.
//   node tools/asyncapi/validate.mjs docs/events/asyncapi.yaml
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"), { source: path });
  for (const d of diagnostics) {
    // severity 0 is an error, 1 a warning; both are printed, errors fail.
    if (d.severity <= 1) {
      console.error(`${path}:${(d.range?.start?.line ?? 0) + 1}: ${d.severity === 0 ? "error" : "warning"} ${d.code}: ${d.message} (${(d.path || []).join(".")})`);
    }
  }
  if (!document || diagnostics.some((d) => d.severity === 0)) {
    failed = true;
  } else {
    console.log(`${path}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages`);
  }
}
process.exit(failed ? 1 : 0);
