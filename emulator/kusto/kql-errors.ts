/**
 * Errors raised while parsing or evaluating KQL. The service turns them into
 * Kusto-shaped OneApi error bodies (see `one-api.ts`).
 */

export type KqlErrorKind = 'syntax' | 'semantic' | 'unsupported' | 'request';

export const UNSUPPORTED_HINT = 'supported subset: see emulator/kusto/README.md';

export class KqlError extends Error {
  override readonly name = 'KqlError';
  constructor(
    readonly kind: KqlErrorKind,
    /** Kusto's inner error code, e.g. `SYN0002`, `SEM0100`. */
    readonly code: string,
    message: string,
    /** Character offset in the query text, when known. */
    readonly offset?: number,
    /** The message without its "Semantic error: CODE: " prefix (the inner error's `message`). */
    readonly detail: string = message,
    /** For syntax errors: the inner error's `@token`, `@line`, `@pos`. */
    readonly location?: { token: string; line: number; position: number },
  ) {
    super(message);
  }
}

/** 1-based line and 0-based position in that line, the way Kusto reports `[line:position=L:P]`. */
export function lineAndPosition(text: string, offset: number): { line: number; position: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 10 || code === 0x2028 || code === 0x2029 || (code === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, position: offset - lineStart };
}

/**
 * SYN0002 as the service reports it: the position and the query, and no
 * more. The service does not say what it expected, so neither does this;
 * `_detail` only documents the call site.
 */
export function syntaxError(text: string, offset: number, _detail: string): KqlError {
  const { line, position } = lineAndPosition(text, offset);
  const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  const token = /^[\w$]+|^\S/u.exec(text.slice(offset))?.[0] ?? '';
  return new KqlError(
    'syntax',
    'SYN0002',
    `Syntax error: Query could not be parsed: SYN0002: A recognition error occurred. [line:position=${line}:${position}]. Query: '${snippet}'`,
    offset,
    'A recognition error occurred.',
    { token, line, position },
  );
}

export function semanticError(code: string, operator: string | undefined, detail: string, offset?: number): KqlError {
  const where = operator ? `'${operator}' operator: ` : '';
  return new KqlError('semantic', code, `Semantic error: ${code}: ${where}${detail}`, offset, `${where}${detail}`);
}

/** SEM0100: a name that is neither a table, a let, a parameter nor a column in scope. */
export function unresolvedName(
  operator: string | undefined,
  name: string,
  what: 'table or column' | 'scalar',
  offset?: number,
): KqlError {
  return semanticError('SEM0100', operator, `Failed to resolve ${what} expression named '${name}'`, offset);
}

export function unsupported(thing: string, offset?: number): KqlError {
  return new KqlError(
    'unsupported',
    'EmulatorUnsupported',
    `The Kusto emulator does not support '${thing}' (${UNSUPPORTED_HINT})`,
    offset,
  );
}

/** A problem with the request rather than the query text (bad parameter value, bad option). */
export function requestError(message: string): KqlError {
  return new KqlError('request', 'General_BadRequest', message);
}
