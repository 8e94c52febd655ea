/**
 * OData text built from user input: literals escaped per the OData ABNF,
 * property names checked, and query strings percent-encoded. The Graph
 * client's `.filter()`, `.search()` and `.query()` put their text into the
 * URL as it is (see GraphRequest.createQueryString), so a value with `&`
 * or `#` would end the parameter and start another: every user value goes
 * through these functions, never into a template string.
 *
 * @example
 * const filter = odataAnd(odataEq('mail', userInput), odataStartsWith('displayName', prefix));
 * const url = endpointUrl(endpoint, `/users${odataQuery({ $filter: filter, $top: 25 })}`);
 */

export class ODataInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ODataInputError';
  }
}

/** A property path such as `mail`, `from/emailAddress/address`, `createdDateTime`. */
const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]{0,63}(\/[A-Za-z_][A-Za-z0-9_]{0,63}){0,4}$/;
/** Text that can be neither typed nor meant in a query: C0 controls other than tab, DEL, and lone surrogates. */
const UNSENDABLE = /[\u0000-\u0008\u000a-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkText(value: string, what: string): string {
  if (typeof value !== 'string') throw new ODataInputError(`${what} must be text`);
  if (UNSENDABLE.test(value)) throw new ODataInputError(`${what} contains control characters`);
  return value;
}

export function odataProperty(name: string): string {
  if (!PROPERTY.test(name)) throw new ODataInputError(`"${name.slice(0, 64)}" is not a property name`);
  return name;
}

/** A string literal for `$filter`: `'O''Brien'` (single quotes doubled, the only escape OData strings have). */
export function odataString(value: string): string {
  return `'${checkText(value, 'A filter value').replace(/'/g, "''")}'`;
}

/** A DateTimeOffset literal (unquoted in OData v4): `2026-01-01T00:00:00Z`. */
export function odataDateTime(value: Date | string): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw new ODataInputError(`"${String(value).slice(0, 40)}" is not a date and time`);
  return date.toISOString();
}

export const odataEq = (property: string, value: string) => `${odataProperty(property)} eq ${odataString(value)}`;
export const odataStartsWith = (property: string, value: string) => `startsWith(${odataProperty(property)},${odataString(value)})`;
/** Joins conditions with `and`, each in parentheses (so an `or` inside cannot escape its condition). */
export const odataAnd = (...conditions: string[]) => conditions.map((condition) => `(${condition})`).join(' and ');

/**
 * A `$search` phrase: double-quoted, with `\` and `"` escaped by a
 * backslash, so the text is one phrase and no search operator (`OR`, `NOT`,
 * `property:`) of the caller's takes effect.
 */
export function searchPhrase(value: string): string {
  return `"${checkText(value, 'A search text').replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * Directory `$search` (`/users`, `/groups`): `"displayName:ann"`, one
 * property, the value escaped as in `searchPhrase`. Needs the
 * `ConsistencyLevel: eventual` header.
 */
export function directorySearch(property: string, value: string): string {
  return `"${odataProperty(property)}:${checkText(value, 'A search text').replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

export type ODataQuery = Partial<Record<'$filter' | '$search' | '$select' | '$expand' | '$orderby' | '$top' | '$skip' | '$count', string | number | boolean | readonly string[]>>;

/**
 * `?$filter=…&$top=…`, every value percent-encoded (spaces as `%20`, which
 * Graph reads everywhere; `+` would be a plus in some APIs). Lists (`$select`)
 * are joined with commas, each checked as a property. Unset entries are left out.
 */
export function odataQuery(query: ODataQuery & Record<string, string | number | boolean | readonly string[] | undefined>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (!/^\$?[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new ODataInputError(`"${name}" is not a query option`);
    const text = Array.isArray(value) ? value.map((item) => odataProperty(String(item))).join(',') : String(value);
    parts.push(`${name}=${encodeURIComponent(text)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
