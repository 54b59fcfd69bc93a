import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ProblemException } from './problem/problem';
import { ProblemFilter } from './problem/problem.filter';
import { createValidationPipe } from './problem/validation';

/** What every HTTP service applies: JSON limits, validation, problem documents, OpenAPI, shutdown hooks. */
export const configureHttpApp = (app: INestApplication, title: string): void => {
  app.use(json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] }));
  // Body-parser errors happen before Nest routes the request; answer them as problems here.
  app.use((error: { type?: string; message?: string } | undefined, _: Request, response: Response, next: NextFunction) => {
    if (!error) return next();
    const problem =
      error.type === 'entity.parse.failed'
        ? new ProblemException('MALFORMED_JSON', `the request body is not valid JSON: ${error.message ?? ''}`.trim())
        : error.type === 'entity.too.large'
          ? new ProblemException('PAYLOAD_TOO_LARGE', 'the request body is larger than 1 MiB')
          : undefined;
    if (!problem) return next(error);
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toDocument()));
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(title)
      .setDescription('Model registry workflow automation: the registry drives evaluation, approval, deployment and archival of model versions.')
      .setVersion('v1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
};
