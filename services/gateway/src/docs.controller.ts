import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toYaml } from '@argus/config';
import { ArgusError } from '@argus/contracts';
import { buildOpenApiDocument, DOCS_INIT_SCRIPT, OPENAPI_PATHS, SWAGGER_UI_ASSETS } from './openapi';

/** Starts Swagger UI on the document; a file rather than inline script, so a strict CSP holds. */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

/** Relative links, so the page also works behind a path prefix (`/argus/docs`). */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Argus API reference</title>
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" />
    <link rel="stylesheet" href="docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/init.js"></script>
  </body>
</html>
`;

const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/**
 * The API's description, generated from the zod contracts, on /openapi.json and /openapi.yaml, and a browsable
 * reference on /docs. Public (access-control.ts): the description holds no data.
 */
@Controller()
export class DocsController {
  private readonly document = buildOpenApiDocument();
  private readonly json = JSON.stringify(this.document);
  private readonly yaml = toYaml(this.document);
  private readonly assets = new Map<string, Buffer>();

  @Get(OPENAPI_PATHS.json)
  async openApiJson(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', 'application/json; charset=utf-8').send(this.json);
  }

  @Get(OPENAPI_PATHS.yaml)
  async openApiYaml(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', 'application/yaml; charset=utf-8').send(this.yaml);
  }

  @Get(OPENAPI_PATHS.docs)
  async page(@Res() reply: FastifyReply): Promise<void> {
    await reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .send(PAGE);
  }

  @Get(`${OPENAPI_PATHS.docs}/:asset`)
  async asset(@Param('asset') name: string, @Res() reply: FastifyReply): Promise<void> {
    if (name === DOCS_INIT_SCRIPT) {
      await reply.header('content-type', 'text/javascript; charset=utf-8').send(INIT_SCRIPT);
      return;
    }
    const type = Object.hasOwn(SWAGGER_UI_ASSETS, name) ? SWAGGER_UI_ASSETS[name] : undefined;
    if (!type) throw new ArgusError('NOT_FOUND', `no documentation asset ${name}`);
    let bytes = this.assets.get(name);
    if (!bytes) {
      bytes = readFileSync(join(dirname(require.resolve('swagger-ui-dist/package.json')), name));
      this.assets.set(name, bytes);
    }
    await reply
      .header('content-type', type)
      .header('cache-control', 'public, max-age=86400')
      .header('x-content-type-options', 'nosniff')
      .send(bytes);
  }
}
