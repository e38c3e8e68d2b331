// graphql-http's audit of a GraphQL-over-HTTP server, printed as JSON:
//   node audit.mjs http://127.0.0.1:PORT/graphql
// Each result: {id, name, status: "ok" | "notice" (MAY) | "warn" (SHOULD) | "error" (MUST), reason}.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
process.stdout.write(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason })), null, 1));
