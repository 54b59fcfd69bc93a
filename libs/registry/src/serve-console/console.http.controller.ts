import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ProblemException, Public, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { ASSET_NAME, CONSOLE_SECURITY_HEADERS, findConsoleDir } from './console-files';

/** The console's client-side routes: each answers the same page, which then shows the route. */
const PAGES = ['', 'models', 'models/*rest', 'approvals', 'deployments', 'webhooks', 'audit'];

/**
 * Serves the ops console (apps/console, built by `npm run build` into dist/console): static
 * files only, no data. The page signs in with a token and reads the API like any client, so
 * these routes are public; assets are content-hashed and cached for good, the page never.
 */
@Public()
@ApiExcludeController()
@Controller()
export class ConsoleController {
  private readonly dir: string | undefined;

  constructor(@Inject(SUITE_CONFIG) config: SuiteConfig) {
    this.dir = findConsoleDir(config.consoleDir);
  }

  @Get(PAGES)
  page(@Res() response: Response): void {
    const dir = this.built();
    response.set({ ...CONSOLE_SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
    response.sendFile('index.html', { root: dir });
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() response: Response): void {
    const dir = this.built();
    if (!ASSET_NAME.test(name)) throw new ProblemException('NOT_FOUND', `no console asset ${name.slice(0, 100)}`, {}, 404);
    response.set({ ...CONSOLE_SECURITY_HEADERS, 'Cache-Control': 'public, max-age=31536000, immutable' });
    response.sendFile(name, { root: `${dir}/assets`, dotfiles: 'deny' }, (error?: Error) => {
      if (error && !response.headersSent) {
        response.status(404).type('application/problem+json').send(new ProblemException('NOT_FOUND', `no console asset ${name}`, {}, 404).toDocument());
      }
    });
  }

  private built(): string {
    if (!this.dir) {
      throw new ProblemException('CONSOLE_NOT_BUILT', 'the console is not built here: run `npm run build` (or set MRW_CONSOLE_DIR to a built console)', {}, 404);
    }
    return this.dir;
  }
}
