import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

import { invalidField } from './problem.js';

/**
 * Validates requests against the routes' TypeBox schemas. Path and query values arrive as
 * strings, so they are converted to the schema's types first. A failure is a 400 problem
 * whose `field` is a JSON Pointer into the body (`/display_name`) or the parameter's name.
 */
export const typeBoxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const converts = httpPart === 'querystring' || httpPart === 'params' || httpPart === 'headers';

  return (data: unknown) => {
    const value = converts ? Value.Convert(schema, Value.Default(schema, data)) : data;
    if (check.Check(value)) return { value };

    const first = check.Errors(value).First();
    const pointer = first?.path ?? '';
    const field = converts ? pointer.replace(/^\//, '').split('/')[0]! : pointer;
    return { error: invalidField(field, describe(first?.message, field, converts)) };
  };
};

function describe(message: string | undefined, field: string, parameter: boolean): string {
  let where = `The field ${field}`;
  if (field === '') where = 'The request body';
  else if (parameter) where = `The parameter ${field}`;
  return `${where} is invalid: ${message ?? 'it does not match the schema'}.`;
}
