/**
 * Writes the test vocabulary: `npx vite-node test/helpers/train-tokenizer-cli.ts [outDir]`
 * (default models/sample-tokenizer). vite-node runs the TypeScript sources directly; this
 * fixture generator is not part of dist/.
 */
import path from 'node:path';
import { repoRoot } from './cli.js';
import { trainTestTokenizer } from './train-tokenizer.js';

// vite-node passes the script's own arguments from argv[2] on.
const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'models/sample-tokenizer'));
const result = await trainTestTokenizer(outDir);
console.error(`wrote ${result.vocabSize} tokens, ${result.merges} merges to ${outDir}`);
