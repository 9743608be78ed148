// Prints the REST API's endpoint table as Markdown (for the README), from the same table the server
// serves, so the documentation cannot drift from the code: `npx tsx scripts/api-table.ts`.
import { allEndpoints } from '../src/api/index.js';

console.log('| method | path | who | what |');
console.log('|---|---|---|---|');
for (const e of allEndpoints()) {
  console.log(`| ${e.method} | \`${e.path}\` | ${e.access.join(', ')} | ${e.summary} |`);
}
