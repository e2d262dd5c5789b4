// Runs the graphql-http audit (https://github.com/graphql/graphql-http) against a live /graphql and
// prints each audit's result as one JSON line: {"id", "name", "status", "reason"}.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const extraHeaders = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const fetchWithHeaders = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers || {}), ...extraHeaders } });
const results = await auditServer({ url, fetchFn: fetchWithHeaders });
for (const result of results) {
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status,
                               reason: result.status === "ok" ? "" : result.reason }));
}
