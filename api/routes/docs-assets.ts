import { dirname, join } from 'node:path';
import { z } from 'zod';

/** The files of swagger-ui-dist the docs page needs, served from node_modules (no CDN), plus our initializer. */
export const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'init.js': 'text/javascript; charset=utf-8',
} as const;

export const docsAsset = z.strictObject({ asset: z.enum(Object.keys(DOCS_ASSETS) as [keyof typeof DOCS_ASSETS, ...Array<keyof typeof DOCS_ASSETS>]) });

export function swaggerUiDir(): string {
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

export const assetPath = (asset: Exclude<keyof typeof DOCS_ASSETS, 'init.js'>) => join(swaggerUiDir(), asset);
