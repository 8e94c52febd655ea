import { writeFile } from 'node:fs/promises';
import { renderToolDocs } from './tool-docs.ts';

await writeFile(new URL('../docs/tools.md', import.meta.url), renderToolDocs());
console.log('docs/tools.md written');
