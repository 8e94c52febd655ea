import { readFile, writeFile } from 'node:fs/promises';
import { renderToolDocs, withReadmeToolTable } from './tool-docs.ts';

await writeFile(new URL('../docs/tools.md', import.meta.url), renderToolDocs());
const readme = new URL('../README.md', import.meta.url);
await writeFile(readme, withReadmeToolTable(await readFile(readme, 'utf8')));
console.log('docs/tools.md and the tool table of README.md written');
