import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ArgusError } from '@argus/contracts';
import type { GatewayConfig } from '@argus/config';
import { CONSOLE_PATH } from './access-control';
import { CONSOLE_CONTENT_SECURITY_POLICY, consolePage, ConsoleAssetCache } from './console-assets';
import { GATEWAY_CONFIG } from './gateway.tokens';

/**
 * The web console on /console (docs/console.md): a shell and its static modules, public because they hold no data;
 * every data call the page makes carries the API key the user signs in with.
 */
@Controller()
export class ConsoleController {
  private readonly assets = new ConsoleAssetCache();
  private readonly page: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.page = consolePage(config.auth.enabled);
  }

  @Get(CONSOLE_PATH)
  async shell(@Res() reply: FastifyReply): Promise<void> {
    await reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CONSOLE_CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(this.page);
  }

  @Get(`${CONSOLE_PATH}/:asset`)
  async asset(@Param('asset') name: string, @Res() reply: FastifyReply): Promise<void> {
    const asset = this.assets.get(name);
    if (!asset) throw new ArgusError('NOT_FOUND', `no console asset ${name.slice(0, 100)}`);
    // no-cache: the browser revalidates, so a new gateway version never runs with modules of the old one.
    await reply
      .header('content-type', asset.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(asset.bytes);
  }
}
