// Writes openapi.json from the route schemas. CI fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { openApiDocument, serialiseOpenApi } from '../src/http/openapi.ts';

const doc = await openApiDocument();
writeFileSync(new URL('../openapi.json', import.meta.url), serialiseOpenApi(doc));
const paths = Object.keys((doc as { paths: Record<string, unknown> }).paths).length;
process.stdout.write(`openapi.json written (${paths} paths)\n`);
