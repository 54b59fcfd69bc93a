import { ApiPropertyOptional, type SchemaObject } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { QueryInteger } from '@mrw/platform';

/** Slack user ids: `U…` (or `W…` on Enterprise Grid), upper-case letters and digits. */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,31}$/;
/** A user principal name: `name@domain`, no spaces. */
export const USER_PRINCIPAL_NAME = /^[^\s@]{1,64}@[^\s@]{1,189}$/;

/** `PUT /api/v1/people/{subject}`: a person's contact details, replacing what was there (give at least one). */
export class PersonContactDto {
  @ApiPropertyOptional({ format: 'email', maxLength: 254, example: 'rita@example.com' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @ApiPropertyOptional({ pattern: SLACK_USER_ID.source, example: 'U024BE7LH', description: "Slack's user id (not the display name)" })
  @IsOptional()
  @IsString()
  @Matches(SLACK_USER_ID, { message: 'slackUserId must be a Slack user id such as U024BE7LH' })
  slackUserId?: string;

  @ApiPropertyOptional({ maxLength: 254, pattern: USER_PRINCIPAL_NAME.source, example: 'rita@contoso.onmicrosoft.com' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @Matches(USER_PRINCIPAL_NAME, { message: 'teamsUserPrincipalName must be a user principal name such as rita@contoso.com' })
  teamsUserPrincipalName?: string;
}

export class PeopleQuery {
  @QueryInteger({ min: 1, max: 500, default: 100 })
  limit?: number;

  @QueryInteger({ min: 0, max: 1_000_000_000, default: 0 })
  offset?: number;
}

/** How a person is shown to admins. */
export const PERSON_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['subject', 'email', 'slackUserId', 'teamsUserPrincipalName', 'updatedAt', 'updatedBy'],
  properties: {
    subject: { type: 'string' },
    email: { type: 'string', nullable: true },
    slackUserId: { type: 'string', nullable: true },
    teamsUserPrincipalName: { type: 'string', nullable: true },
    updatedAt: { type: 'string', format: 'date-time' },
    updatedBy: {
      type: 'object',
      required: ['kind', 'id'],
      properties: { kind: { type: 'string', enum: ['user', 'service'] }, id: { type: 'string' } },
    },
  },
};

export const PEOPLE_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['total', 'items'],
  properties: { total: { type: 'integer', minimum: 0 }, items: { type: 'array', items: PERSON_SCHEMA } },
};
