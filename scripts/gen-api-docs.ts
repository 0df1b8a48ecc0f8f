/** Writes docs/api.md from the API's OpenAPI document: `npm run docs:api`. */
import { writeFileSync } from 'node:fs';
import { renderApiMarkdown } from '../src/api/docs.js';

const target = new URL('../docs/api.md', import.meta.url);
writeFileSync(target, renderApiMarkdown());
console.log(`wrote ${target.pathname}`);
