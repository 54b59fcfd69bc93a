import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { SUBJECT_PATTERN } from '@mrw/contracts';
import { CurrentPrincipal, ProblemException, RequireRole, type AuthPrincipal } from '@mrw/platform';
import { PeopleDirectory, type Person } from './people-directory';
import { PeopleHandler } from './people.handler';
import { PEOPLE_SCHEMA, PERSON_SCHEMA, PeopleQuery, PersonContactDto } from './person.dto';

const SUBJECT_PARAM = { name: 'subject', description: 'the registry subject (as on tokens)', schema: { type: 'string', pattern: SUBJECT_PATTERN.source } } as const;

const subjectOf = (value: string): string => {
  if (!SUBJECT_PATTERN.test(value)) {
    throw new ProblemException('VALIDATION_FAILED', 'the request is invalid: subject: subject must be 1-128 letters, digits or . _ @ + -', {
      errors: [{ field: 'subject', message: 'subject must be 1-128 letters, digits or . _ @ + -' }],
    });
  }
  return value;
};

const view = (person: Person) => ({
  subject: person.subject,
  email: person.email,
  slackUserId: person.slackUserId,
  teamsUserPrincipalName: person.teamsUserPrincipalName,
  updatedAt: person.updatedAt,
  updatedBy: person.updatedBy,
});

/**
 * The people directory, for admins only: contact details are personal data, and a chat
 * identity bound here lets that chat account decide as the person. No model scope: a scoped
 * token cannot manage people.
 */
@ApiTags('people')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api/v1/people')
export class PeopleController {
  constructor(
    private readonly directory: PeopleDirectory,
    private readonly handler: PeopleHandler,
  ) {}

  @Get()
  @ApiOkResponse({ schema: PEOPLE_SCHEMA })
  list(@Query() query: PeopleQuery) {
    const everyone = this.directory.list();
    const offset = query.offset ?? 0;
    return { total: everyone.length, items: everyone.slice(offset, offset + (query.limit ?? 100)).map(view) };
  }

  @Get(':subject')
  @ApiParam(SUBJECT_PARAM)
  @ApiOkResponse({ schema: PERSON_SCHEMA })
  get(@Param('subject') subject: string) {
    const person = this.directory.get(subjectOf(subject));
    if (!person) throw new ProblemException('PERSON_NOT_FOUND', `${subject} is not in the people directory`);
    return view(person);
  }

  @Put(':subject')
  @ApiParam(SUBJECT_PARAM)
  @ApiOkResponse({ description: 'Replaced', schema: PERSON_SCHEMA })
  @ApiCreatedResponse({ description: 'Added', schema: PERSON_SCHEMA })
  async set(
    @Param('subject') subject: string,
    @Body() body: PersonContactDto,
    @CurrentPrincipal() principal: AuthPrincipal,
    @Res({ passthrough: true }) response: Response,
  ) {
    subjectOf(subject);
    const contact = { email: body.email ?? null, slackUserId: body.slackUserId ?? null, teamsUserPrincipalName: body.teamsUserPrincipalName ?? null };
    if (!contact.email && !contact.slackUserId && !contact.teamsUserPrincipalName) {
      throw new ProblemException('VALIDATION_FAILED', 'the request is invalid: body: give at least one of email, slackUserId, teamsUserPrincipalName (DELETE removes a person)', {
        errors: [{ field: 'body', message: 'give at least one of email, slackUserId, teamsUserPrincipalName' }],
      });
    }
    const { person, created } = await this.handler.set(subject, contact, principal.actor);
    response.status(created ? 201 : 200);
    return view(person);
  }

  @Delete(':subject')
  @HttpCode(204)
  @ApiParam(SUBJECT_PARAM)
  @ApiNoContentResponse({ description: 'Removed' })
  async remove(@Param('subject') subject: string, @CurrentPrincipal() principal: AuthPrincipal): Promise<void> {
    await this.handler.remove(subjectOf(subject), principal.actor);
  }
}
