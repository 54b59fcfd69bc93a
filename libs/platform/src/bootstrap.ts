import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ProblemException } from './problem/problem';
import { ProblemFilter } from './problem/problem.filter';
import { closeRequestSchemas, declareProblemResponses } from './problem/openapi-problems';
import { BodyRoutes, formBodyParser, jsonBodyGuard, MAX_BODY_BYTES, mediaTypeGuard, methodGuard, queryGuard, sendProblem } from './problem/request-guards';
import { createValidationPipe } from './problem/validation';

/**
 * A request Node's HTTP parser refuses never reaches a route: its request line and headers over
 * Node's limit (431), chunk extensions too large (413), anything else unparsable (400). Node would
 * answer with an empty body; the suite answers a problem document, then closes the connection.
 */
export const answerUnparsableRequests = (server: Server): void => {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, detail] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'REQUEST_HEADERS_TOO_LARGE', 'the request line and headers are larger than the server takes (a query string that long belongs in a body)']
        : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? [413, 'PAYLOAD_TOO_LARGE', 'the chunk extensions are larger than the server takes']
          : [400, 'BAD_REQUEST', 'the request is not valid HTTP/1.1'];
    const body = JSON.stringify(new ProblemException(code, detail, {}, status).toDocument());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
};

/** What every HTTP service applies: media types, JSON size and shape limits, validation, problem documents, OpenAPI, shutdown hooks. */
export const configureHttpApp = (app: INestApplication, title: string): void => {
  answerUnparsableRequests(app.getHttpServer() as Server);
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
