/**
 * The OData `$filter` subset the product sends, parsed and evaluated.
 *
 * Models OData v4 URL conventions as Graph applies them (https://learn.microsoft.com/graph/filter-query-parameter):
 * comparison operators `eq ne gt ge lt le`, `and`/`or`/`not`, parentheses, `in (…)`, the
 * functions `startsWith`, `endsWith`, `contains`; string literals in single quotes with `'`
 * escaped as `''` (graph-protocol.md §8), unquoted DateTimeOffset literals
 * (`2024-01-01T00:00:00Z`), numbers, `true`/`false`/`null`; property paths with `/`
 * (`from/emailAddress/address`). String comparison is case-insensitive, as directory and Outlook
 * filters are. Lambda operators (`any`/`all`) are not modelled: they answer 400 (the emulator's
 * limit, not Graph's; marked `unconfirmed` for what Graph would say).
 *
 * The parse result also says which "advanced query" features it uses (`ne`, `not`, `endsWith`),
 * because directory objects accept those only with `ConsistencyLevel: eventual` and `$count=true`
 * (https://learn.microsoft.com/graph/aad-advanced-queries, graph-protocol.md §8).
 */
import { GraphError } from './errors.ts';

type Literal = { kind: 'lit'; value: string | number | boolean | null; type: 'string' | 'number' | 'boolean' | 'null' | 'datetime' };
type Property = { kind: 'prop'; path: string[] };
type Operand = Literal | Property;
export type FilterNode =
  | { kind: 'cmp'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; left: Operand; right: Operand }
  | { kind: 'func'; name: 'startswith' | 'endswith' | 'contains'; args: Operand[] }
  | { kind: 'in'; left: Operand; values: Literal[] }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; expr: FilterNode };

export interface ParsedFilter {
  root: FilterNode;
  /** Property paths referenced, joined with `/`, in order of appearance. */
  properties: string[];
  /** Advanced-query features used: `ne`, `not`, `endsWith`. */
  advanced: string[];
}

type Token = { type: 'word' | 'string' | 'punct'; text: string };

const DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function invalid(message: string): GraphError {
  return new GraphError(400, 'BadRequest', `Invalid filter clause: ${message}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw invalid('unterminated string literal.');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
      tokens.push({ type: 'string', text: value });
    } else if ('(),'.includes(ch)) {
      tokens.push({ type: 'punct', text: ch });
      i += 1;
    } else {
      const match = /^[^\s(),']+/.exec(text.slice(i));
      if (!match) throw invalid(`unexpected character '${ch}'.`);
      tokens.push({ type: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

class Parser {
  private position = 0;
  readonly properties: string[] = [];
  readonly advanced = new Set<string>();
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    const node = this.or();
    if (this.position < this.tokens.length) throw invalid(`unexpected '${this.tokens[this.position]!.text}'.`);
    return node;
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.position];
    return token?.type === 'word' ? token.text.toLowerCase() : undefined;
  }

  private expect(text: string): void {
    const token = this.tokens[this.position];
    if (token?.type !== 'punct' || token.text !== text) throw invalid(`expected '${text}'.`);
    this.position += 1;
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.peekWord() === 'or') {
      this.position += 1;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.peekWord() === 'and') {
      this.position += 1;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterNode {
    if (this.peekWord() === 'not') {
      this.position += 1;
      this.advanced.add('not');
      return { kind: 'not', expr: this.unary() };
    }
    const token = this.tokens[this.position];
    if (token?.type === 'punct' && token.text === '(') {
      this.position += 1;
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    const name = this.peekWord();
    const next = this.tokens[this.position + 1];
    if (name && next?.type === 'punct' && next.text === '(') {
      if (name === 'startswith' || name === 'endswith' || name === 'contains') {
        this.position += 2;
        const args = [this.operand()];
        this.expect(',');
        args.push(this.operand());
        this.expect(')');
        if (name === 'endswith') this.advanced.add('endsWith');
        return { kind: 'func', name, args };
      }
      throw invalid(`the function '${name}' is not supported.`);
    }
    return this.comparison();
  }

  private comparison(): FilterNode {
    const left = this.operand();
    const op = this.peekWord();
    if (op === 'in') {
      this.position += 1;
      this.expect('(');
      const values: Literal[] = [];
      for (;;) {
        const value = this.operand();
        if (value.kind !== 'lit') throw invalid("'in' takes literals.");
        values.push(value);
        const token = this.tokens[this.position];
        if (token?.type === 'punct' && token.text === ',') {
          this.position += 1;
          continue;
        }
        break;
      }
      this.expect(')');
      return { kind: 'in', left, values };
    }
    if (op !== 'eq' && op !== 'ne' && op !== 'gt' && op !== 'ge' && op !== 'lt' && op !== 'le') {
      throw invalid(op ? `the operator '${op}' is not supported.` : 'expected a comparison operator.');
    }
    this.position += 1;
    if (op === 'ne') this.advanced.add('ne');
    return { kind: 'cmp', op, left, right: this.operand() };
  }

  private operand(): Operand {
    const token = this.tokens[this.position];
    if (!token) throw invalid('unexpected end of the clause.');
    this.position += 1;
    if (token.type === 'string') return { kind: 'lit', value: token.text, type: 'string' };
    if (token.type === 'punct') throw invalid(`unexpected '${token.text}'.`);
    const word = token.text;
    const lower = word.toLowerCase();
    if (lower === 'true' || lower === 'false') return { kind: 'lit', value: lower === 'true', type: 'boolean' };
    if (lower === 'null') return { kind: 'lit', value: null, type: 'null' };
    if (DATETIME.test(word) && word.includes('-')) return { kind: 'lit', value: word, type: 'datetime' };
    if (/^-?\d+(\.\d+)?$/.test(word)) return { kind: 'lit', value: Number(word), type: 'number' };
    if (word.includes(':')) throw invalid(`lambda operators and '${word}' are not supported by the emulator (unconfirmed what Graph answers).`);
    if (!/^[A-Za-z_@][\w@.]*(\/[A-Za-z_][\w.]*)*$/.test(word)) throw invalid(`'${word}' is not a property or literal.`);
    this.properties.push(word);
    return { kind: 'prop', path: word.split('/') };
  }
}

export function parseFilter(text: string): ParsedFilter {
  const parser = new Parser(tokenize(text));
  const root = parser.parse();
  return { root, properties: parser.properties, advanced: [...parser.advanced] };
}

function valueOf(operand: Operand, item: unknown): unknown {
  if (operand.kind === 'lit') return operand.value;
  let current: unknown = item;
  for (const segment of operand.path) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === segment.toLowerCase());
    current = key === undefined ? undefined : record[key];
  }
  return current;
}

function isDateLike(operand: Operand): boolean {
  return operand.kind === 'lit' && operand.type === 'datetime';
}

function compare(left: unknown, right: unknown, asDate: boolean): number | undefined {
  if (left === undefined || left === null || right === undefined || right === null) return undefined;
  if (asDate) {
    const a = Date.parse(String(left));
    const b = Date.parse(String(right));
    return Number.isNaN(a) || Number.isNaN(b) ? undefined : a - b;
  }
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'boolean' || typeof right === 'boolean') return left === right ? 0 : 1;
  return String(left).toLowerCase().localeCompare(String(right).toLowerCase());
}

function equal(left: unknown, right: unknown, asDate: boolean): boolean {
  if (left === null || left === undefined || right === null || right === undefined) return (left ?? null) === (right ?? null);
  return compare(left, right, asDate) === 0;
}

export function evaluateFilter(node: FilterNode, item: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return evaluateFilter(node.left, item) && evaluateFilter(node.right, item);
    case 'or':
      return evaluateFilter(node.left, item) || evaluateFilter(node.right, item);
    case 'not':
      return !evaluateFilter(node.expr, item);
    case 'in': {
      const value = valueOf(node.left, item);
      return node.values.some((literal) => equal(value, literal.value, false));
    }
    case 'func': {
      const [haystack, needle] = node.args.map((arg) => valueOf(arg, item));
      if (typeof haystack !== 'string' || typeof needle !== 'string') return false;
      const a = haystack.toLowerCase();
      const b = needle.toLowerCase();
      return node.name === 'startswith' ? a.startsWith(b) : node.name === 'endswith' ? a.endsWith(b) : a.includes(b);
    }
    case 'cmp': {
      const asDate = isDateLike(node.left) || isDateLike(node.right);
      const left = valueOf(node.left, item);
      const right = valueOf(node.right, item);
      if (node.op === 'eq') return equal(left, right, asDate);
      if (node.op === 'ne') return !equal(left, right, asDate);
      const order = compare(left, right, asDate);
      if (order === undefined) return false;
      return node.op === 'gt' ? order > 0 : node.op === 'ge' ? order >= 0 : node.op === 'lt' ? order < 0 : order <= 0;
    }
  }
}

/** Comparisons of `property op literal` at the top level of an `and` chain, for endpoint-specific rules. */
export function topLevelComparisons(node: FilterNode): Array<{ property: string; op: string; value: unknown }> {
  if (node.kind === 'and') return [...topLevelComparisons(node.left), ...topLevelComparisons(node.right)];
  if (node.kind === 'cmp' && node.left.kind === 'prop' && node.right.kind === 'lit') {
    return [{ property: node.left.path.join('/'), op: node.op, value: node.right.value }];
  }
  return [];
}
