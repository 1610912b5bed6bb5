/**
 * Reads one YAML file and checks it against one zod schema, turning every YAML and zod
 * error into a ConfigProblem that names the file, the field and a fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { INIT_PLACEHOLDER } from './placeholders';
import { ConfigProblem, fieldPath } from './problems';

/** Shows a path relative to the working directory when it lies below it, so messages stay short. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** What to add when a required field is missing, for the fields people most often leave out. */
const MISSING_FIELD_FIXES: Record<string, string> = {
  approval:
    'record the data access committee approval: committee, reference, date (YYYY-MM-DD) and citizenMembersPresent. A project without one cannot be granted anything',
  period: 'add the approved period: start and end dates (YYYY-MM-DD)',
  researchers: 'list the approved researchers as people: - id: <roster reference> with principal: <the IAM role or user ARN they sign in through>',
  lawfulBasis: 'add the lawful basis: article6, article9 and commonLawDuty',
  classification: 'classify the column: direct_identifier, quasi_identifier, sensitive or other',
  rule: 'give the column a de-identification rule: drop, pseudonymise, date_to_year, date_to_month, age_band, postcode_outward, postcode_lsoa, scrub_free_text or keep',
  limits: 'add limits: bytesScannedPerQuery (bytes) and monthlyBudgetUsd',
};

/** Walks a zod schema down a data path to find the object schema there, to list its allowed keys. */
function schemaAt(schema: z.ZodType, dataPath: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let inner: z.ZodType = s;
    while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
      inner = inner.unwrap() as z.ZodType;
    }
    return inner;
  };
  for (const key of dataPath) {
    if (!current) return undefined;
    current = unwrap(current);
    if (current instanceof z.ZodObject) current = current.shape[String(key)] as z.ZodType | undefined;
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return undefined;
  }
  return current ? unwrap(current) : undefined;
}

function allowedKeys(schema: z.ZodType, dataPath: readonly PropertyKey[]): string[] {
  const at = schemaAt(schema, dataPath);
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

export function zodIssueToProblem(file: string, schema: z.ZodType, issue: z.core.$ZodIssue, input: unknown): ConfigProblem {
  const field = fieldPath(issue.path);
  const last = issue.path[issue.path.length - 1];
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema, issue.path);
    return {
      file,
      field: issue.keys.map((k) => fieldPath([...issue.path, k])).join(', '),
      message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      fix: `remove it or correct the spelling; the keys allowed here are: ${allowed.join(', ')}`,
    };
  }
  if (issue.path.length === 0 && issue.code === 'invalid_type') {
    return input === null || input === undefined
      ? { file, field: '', message: 'the file is empty', fix: 'write the settings this file is for (see the example in config/)' }
      : { file, field: '', message: 'does not hold a mapping of keys to values', fix: 'write the file as key: value lines (see the example in config/)' };
  }
  const oldShape = oldShapeProblem(file, issue, input);
  if (oldShape) return oldShape;
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    const hint = typeof last === 'string' ? MISSING_FIELD_FIXES[last] : undefined;
    return { file, field, message: 'is missing', fix: hint ?? `add "${String(last)}" (see the example in config/)` };
  }
  if (issue.code === 'invalid_value') {
    return {
      file,
      field,
      message: `is ${JSON.stringify(valueAt(input, issue.path))}, which is not allowed`,
      fix: `use one of: ${issue.values.map((v) => String(v)).join(', ')}`,
    };
  }
  if (issue.code === 'custom' && /decimal places/.test(issue.message)) {
    return { file, field, message: `is ${JSON.stringify(valueAt(input, issue.path))}: ${issue.message}`, fix: 'round the price to at most that many decimal places' };
  }
  return { file, field: field || '(top level)', message: issue.message, fix: 'correct the value as the message says' };
}

/**
 * A researcher used to be a bare principal ARN; a project now names people, each with the
 * principal they sign in through. An old entry gets the new shape as its fix, with its own ARN.
 */
function oldShapeProblem(file: string, issue: z.core.$ZodIssue, input: unknown): ConfigProblem | undefined {
  const [top, index] = issue.path;
  const value = valueAt(input, issue.path);
  if (top !== 'researchers' || issue.path.length !== 2 || typeof index !== 'number' || typeof value !== 'string') return undefined;
  return {
    file,
    field: fieldPath(issue.path),
    message: `is "${value}", a principal alone: researchers are now named people, each with the principal they sign in through`,
    fix: `write it as "- id: <the person's roster reference, e.g. ORG-R-001>" with "principal: ${value}" on the next line (and "externalId: <the id agreed with that account>" if the principal is in another AWS account); see docs/workspaces.md`,
  };
}

function valueAt(input: unknown, dataPath: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of dataPath) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key as string];
  }
  return current;
}

/** Parses YAML text; returns undefined (with problems recorded) when it is not valid YAML. */
export function parseYaml(file: string, text: string, problems: ConfigProblem[]): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      problems.push({
        file,
        field: pos ? `line ${pos.line}, column ${pos.col}` : '',
        message: `is not valid YAML: ${err.message.split('\n')[0]}`,
        fix: 'correct the YAML syntax at that line (indentation, a missing colon, an unclosed quote or a duplicated key)',
      });
    }
    return undefined;
  }
  return doc.toJS();
}

/** Reads, parses and validates one file. Returns undefined if anything was wrong (problems recorded). */
export function readConfigFile<S extends z.ZodType>(
  absFile: string,
  schema: S,
  problems: ConfigProblem[],
): z.infer<S> | undefined {
  const file = displayPath(absFile);
  let text: string;
  try {
    text = fs.readFileSync(absFile, 'utf8');
  } catch (e) {
    problems.push({ file, field: '', message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'check the path and the file permissions' });
    return undefined;
  }
  return parseConfigText(file, text, schema, problems);
}

/** Parses and validates one file's text (from disk, or from a git revision). Undefined if anything was wrong. */
/** Every field of a parsed file whose text still holds `sde init`'s placeholder. */
function placeholderFields(value: unknown, field: string, out: string[]): string[] {
  if (typeof value === 'string' && value.includes(INIT_PLACEHOLDER)) out.push(field);
  else if (Array.isArray(value)) value.forEach((v, i) => placeholderFields(v, `${field}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) placeholderFields(v, field === '' ? k : `${field}.${k}`, out);
  }
  return out;
}

export function parseConfigText<S extends z.ZodType>(file: string, text: string, schema: S, problems: ConfigProblem[]): z.infer<S> | undefined {
  const data = parseYaml(file, text, problems);
  if (data === undefined && problems.some((p) => p.file === file)) return undefined;
  // A value sde init left to be chosen is refused as such, whatever it would pass as.
  const unfilled = placeholderFields(data, '', []);
  for (const field of unfilled) {
    problems.push({
      file,
      field,
      message: `is still the placeholder ${INIT_PLACEHOLDER} that sde init left`,
      fix: `replace ${INIT_PLACEHOLDER} with your value: the comment above the field in the file says what it is`,
    });
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const problem = zodIssueToProblem(file, schema, issue, data);
      // Said once, as a placeholder, not again as a malformed value.
      if (!unfilled.includes(problem.field)) problems.push(problem);
    }
    return undefined;
  }
  return unfilled.length > 0 ? undefined : result.data;
}
