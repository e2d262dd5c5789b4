// Parses SPARQL texts with sparqljs (a SPARQL 1.1 grammar, with its own checks of the
// spec's grouping and projection rules) and reports every text it refuses.
// Input on stdin: a JSON array of {"name", "text"}. Output: a JSON array of {"name", "error"}.
"use strict";
const path = require("path");
const { Parser } = require(path.join(__dirname, "..", "..", "web", "node_modules", "sparqljs"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const failures = [];
  for (const { name, text } of JSON.parse(input)) {
    // a new parser each time: sparqljs keeps the prefixes and blank node labels of the last text
    const parser = new Parser({ sparqlStar: false, skipValidation: false });
    try {
      parser.parse(text);
    } catch (err) {
      failures.push({ name, error: String(err.message).split("\n").slice(0, 4).join(" | ") });
    }
  }
  process.stdout.write(JSON.stringify(failures));
});
