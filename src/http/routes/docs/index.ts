/** `/docs`: Swagger UI over /api/v1/openapi.json, served from the swagger-ui-dist package (works offline). */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import swaggerUi from 'swagger-ui-dist';
import type { AppState } from '../../context.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ServiceMeow API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

// Kept in its own file so the page works under a strict Content-Security-Policy (no inline script).
const INIT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#ui' });`;

export function docsRouter(): Router<AppState> {
  const router = new Router<AppState>();
  const dir = swaggerUi.getAbsoluteFSPath();
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });
  router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = INIT;
  });
  router.get('/docs/assets/:file', (ctx) => {
    const type = ASSETS[ctx.params.file!];
    if (!type) return; // unknown asset: falls through to the 404 renderer
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = createReadStream(path.join(dir, ctx.params.file!));
  });
  return router;
}
