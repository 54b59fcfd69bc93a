import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ProblemException } from './problem/problem';
import { ProblemFilter } from './problem/problem.filter';
import { closeRequestSchemas, declareProblemResponses } from './problem/openapi-problems';
import { BodyRoutes, formBodyParser, jsonBodyGuard, MAX_BODY_BYTES, mediaTypeGuard, methodGuard, queryGuard, sendProblem } from './problem/request-guards';
import { createValidationPipe } from './problem/validation';

/** What every HTTP service applies: media types, JSON size and shape limits, validation, problem documents, OpenAPI, shutdown hooks. */
export const configureHttpApp = (app: INestApplication, title: string): void => {
  // Filled from the OpenAPI document below, before the first request arrives.
  const forms = new BodyRoutes();
  // A method the path does not take is answered 405 before anything looks at the body (a form
  // or a non-object sent with the wrong method would otherwise be refused for its body).
  let methods: ((request: Request, response: Response, next: NextFunction) => void) | undefined;
  app.use((request: Request, response: Response, next: NextFunction) => (methods ? methods(request, response, next) : next()));
  app.use(mediaTypeGuard(forms));
  app.use(queryGuard);
  const parseJson = json({ limit: MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'] });
  // A raw-body route streams its bytes itself, whatever their type (a JSON file among artifacts).
  app.use((request: Request, response: Response, next: NextFunction) => (forms.takesRawBody(request) ? next() : parseJson(request, response, next)));
  app.use(formBodyParser(forms));
  // Body-parser errors happen before Nest routes the request; answer them as problems here.
  app.use(
    (error: { type?: string; message?: string; status?: number } | undefined, _: Request, response: Response, next: NextFunction) => {
      if (!error) return next();
      const problem =
        error.type === 'entity.parse.failed'
          ? new ProblemException('MALFORMED_JSON', `the request body is not valid JSON: ${error.message ?? ''}`.trim())
          : error.type === 'entity.too.large'
            ? new ProblemException('PAYLOAD_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`)
            : error.status === 415
              ? new ProblemException('UNSUPPORTED_MEDIA_TYPE', error.message ?? 'unsupported charset or encoding')
              : typeof error.status === 'number' && error.status >= 400 && error.status < 500
                ? new ProblemException('BAD_REQUEST', error.message ?? 'the request body cannot be read', {}, error.status)
                : undefined;
      if (!problem) return next(error);
      sendProblem(response, problem);
    },
  );
  // Before class-transformer or class-validator recurse into the body.
  app.use(jsonBodyGuard(forms));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  const generated = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(title)
      .setDescription('Model registry workflow automation: the registry drives evaluation, approval, deployment and archival of model versions.')
      .setVersion('v1')
      .addBearerAuth()
      .build(),
  );
  // Every operation declares its problem responses; request bodies declare that unknown fields are refused.
  const document = closeRequestSchemas(declareProblemResponses(generated));
  forms.declare(document.paths);
  methods = methodGuard(document.paths);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
};
