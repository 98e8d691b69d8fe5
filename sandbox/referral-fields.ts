/**
 * What a write may say about each field of the Referral resource: who may set it (only the service,
 * the creator in its POST, or anyone in a PATCH), and whether a value fits the field's declared type
 * in the resource model (src/schema/referral-resource.ts). PATCH (referral-writes.ts) and POST
 * (referral-create.ts) share these rules, so a value is judged the same way by both.
 */
import { timestampToEpochMs } from '../src/common/time.js';
import {
  type EnumField,
  type Field,
  type ObjectField,
  REFERRAL_FIELDS,
  type ScalarField,
} from '../src/schema/referral-resource.js';
import { ARRAY_TOKEN } from './json-patch.js';
import { InvalidWriteError } from './write-error.js';

/**
 * The top-level fields a PATCH refuses, each with the reason its 400 gives. `service`: Partner
 * Center alone sets them (a POST may not either); `creation`: the creator sets them in the POST and
 * they stay what they were. Every other declared field may be patched. Why each is where it is:
 * docs/sandbox.md, "Writes".
 */
export const NOT_PATCHABLE: ReadonlyMap<string, { readonly setBy: 'service' | 'creation'; readonly why: string }> =
  new Map([
    ['id', { setBy: 'service', why: "it is the referral's identity" }],
    ['organizationId', { setBy: 'service', why: 'the owning organisation is the one that created the referral' }],
    ['organizationName', { setBy: 'service', why: 'the owning organisation is the one that created the referral' }],
    ['businessProfileId', { setBy: 'service', why: "it is the owning organisation's profile" }],
    ['createdDateTime', { setBy: 'service', why: 'the service stamps it at creation' }],
    ['updatedDateTime', { setBy: 'service', why: 'the service stamps it on every change' }],
    ['expirationDateTime', { setBy: 'service', why: 'Partner Center sets the response deadline' }],
    ['acceptedDateTime', { setBy: 'service', why: 'the service stamps it when the referral is accepted' }],
    ['direction', { setBy: 'service', why: 'it says who sent the referral' }],
    ['referralSource', { setBy: 'service', why: 'Partner Center records where a lead came from' }],
    ['callToAction', { setBy: 'service', why: "it is the customer's request, recorded by Partner Center" }],
    ['campaignId', { setBy: 'service', why: "it names Microsoft's marketing campaign" }],
    ['lastModifiedVia', { setBy: 'service', why: 'the service records the channel of each change' }],
    ['lastRunId', { setBy: 'service', why: 'the service records its own runs' }],
    ['eTag', { setBy: 'service', why: 'it is the concurrency token; send it in If-Match instead' }],
    ['links', { setBy: 'service', why: 'the service makes the links' }],
    ['engagementId', { setBy: 'creation', why: 'it ties related referrals together from their creation' }],
    [
      'type',
      {
        setBy: 'creation',
        why: 'whether a referral is shared is decided when it is created (a shared one has a connected referral)',
      },
    ],
    ['qualification', { setBy: 'creation', why: 'it records who qualified the referral when it was made' }],
    ['inviteContext', { setBy: 'creation', why: 'it records the invitation that made the referral' }],
    ['target', { setBy: 'creation', why: 'it records whom the invitation was aimed at' }],
  ]);

/** The declared field a JSON Pointer names (array items by index or `-`), or undefined. */
export function fieldAt(pointer: readonly string[]): Field | undefined {
  let fields: readonly Field[] = REFERRAL_FIELDS;
  let field: Field | undefined;
  for (const token of pointer) {
    if (field?.kind === 'array' && ARRAY_TOKEN.test(token)) {
      field = itemOf(field);
      fields = field.fields;
      continue;
    }
    field = fields.find((f) => f.name === token);
    if (!field) return undefined;
    fields = field.kind === 'object' ? field.fields : [];
  }
  return field;
}

/** One element of an array field, as an object field of its own (never null). */
function itemOf(array: Extract<Field, { kind: 'array' }>): ObjectField {
  return { name: `${array.name} item`, doc: array.doc, kind: 'object', fields: array.items, nullable: false };
}

/**
 * Throws InvalidWriteError naming `path` unless `value` fits `field`: its type, an enum's known
 * values (the service binds enums, so an unknown one is refused), and the declared members of an
 * object, recursively. Members the model does not declare are left unchecked and kept, as the
 * resource's unknown fields are everywhere else in this project.
 */
export function checkValue(field: Field, value: unknown, path: string): void {
  if (value === null) {
    if (field.nullable === false) throw new InvalidWriteError(path, `'${path}' cannot be null`);
  } else if (field.kind === 'object') checkObject(field, value, path);
  else if (field.kind === 'array') checkArray(field, value, path);
  else if (!fitsScalar(field, value)) throw new InvalidWriteError(path, `'${path}' must be ${scalarWords(field)}`);
}

function fitsScalar(field: ScalarField | EnumField, value: unknown): boolean {
  switch (field.kind) {
    case 'string':
      return typeof value === 'string';
    case 'datetime':
      return typeof value === 'string' && timestampToEpochMs(value) !== undefined;
    case 'number':
      return isNumber(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && field.values.includes(value);
  }
}

const SCALAR_WORDS: Readonly<Record<ScalarField['kind'], string>> = {
  string: 'a string',
  datetime: 'an ISO 8601 date-time',
  number: 'a number',
  boolean: 'true or false',
};

function scalarWords(field: ScalarField | EnumField): string {
  return field.kind === 'enum' ? `one of ${field.values.join(', ')}` : SCALAR_WORDS[field.kind];
}

function checkObject(field: ObjectField, value: unknown, path: string): void {
  if (!isPlainObject(value)) throw new InvalidWriteError(path, `'${path}' must be a JSON object`);
  for (const [name, member] of Object.entries(value as Record<string, unknown>)) {
    const declared = field.fields.find((f) => f.name === name);
    if (declared) checkValue(declared, member, `${path}/${escapeToken(name)}`);
  }
}

function checkArray(field: Extract<Field, { kind: 'array' }>, value: unknown, path: string): void {
  // The service itself sends an empty list as {} (customerProfile.ids), so a copy of what it sent passes.
  if (isPlainObject(value) && Object.keys(value).length === 0) return;
  if (!Array.isArray(value)) throw new InvalidWriteError(path, `'${path}' must be a JSON array`);
  const item = itemOf(field);
  for (const [index, element] of (value as unknown[]).entries()) checkValue(item, element, `${path}/${index}`);
}

/** A finite number, or the decimal text the docs' own PATCH example sends (`"10000"`). */
function isNumber(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 6901: a member name as one token of a JSON Pointer. */
function escapeToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}
