/**
 * Offline Bicep parsing for the infra tests: tree-sitter-bicep's grammar
 * (its .wasm, loaded with web-tree-sitter), syntax problems with file, line
 * and column, and small helpers to read declarations and evaluate the
 * literal parts of expressions. Syntax only: no types, symbols or registry
 * restore (there is no Bicep compiler here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Node } from 'web-tree-sitter';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const infraRoot = join(repoRoot, 'infra');

export interface SyntaxProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

export interface BicepFile {
  /** Path relative to infra/, with forward slashes. */
  name: string;
  kind: 'bicep' | 'bicepparam';
  text: string;
  root: Node;
  problems: SyntaxProblem[];
}

let parserReady: Promise<Parser> | undefined;

function bicepParser(): Promise<Parser> {
  parserReady ??= (async () => {
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-bicep/tree-sitter-bicep.wasm');
    const parser = new Parser();
    parser.setLanguage(await Language.load(wasm));
    return parser;
  })();
  return parserReady;
}

/**
 * tree-sitter-bicep 1.1.0 predates two constructs this deployment uses; both
 * are rewritten in place, keeping every line and (up to the end of the
 * rewritten statement) every column, so reported positions stay true:
 * - `extension <alias>` (Bicep extensions; the grammar knows the older
 *   `import '<name>'` form of the same statement);
 * - `.bicepparam` assignments `param <name> = <value>`, which the grammar
 *   only knows as `var <name> = <value>` (same statement shape).
 * Anything else that is not valid Bicep still fails to parse.
 */
export function toGrammarSyntax(text: string, kind: BicepFile['kind']): string {
  let result = text.replace(/^([ \t]*)extension([ \t]+)([A-Za-z_]\w*)[ \t]*$/gm, "$1import   $2'$3'");
  if (kind === 'bicepparam') result = result.replace(/^([ \t]*)param([ \t]+[A-Za-z_]\w*[ \t]*=)/gm, '$1var  $2');
  return result;
}

function problemsIn(root: Node, file: string): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node) => {
    if (node.isError || node.isMissing) {
      const snippet = node.text.length > 40 ? `${node.text.slice(0, 40)}…` : node.text;
      problems.push({
        file,
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        message: node.isMissing ? `missing ${node.type}` : `unexpected ${JSON.stringify(snippet)}`,
      });
      return;
    }
    if (!node.hasError) return;
    for (const child of node.children) if (child) visit(child);
  };
  visit(root);
  return problems;
}

export function formatProblem(problem: SyntaxProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`;
}

/** Parses Bicep source text; `name` is only used in problem reports. */
export async function parseBicep(name: string, text: string): Promise<BicepFile> {
  const kind = name.endsWith('.bicepparam') ? 'bicepparam' : 'bicep';
  const tree = (await bicepParser()).parse(toGrammarSyntax(text, kind));
  if (!tree) throw new Error(`tree-sitter returned no tree for ${name}`);
  return { name, kind, text, root: tree.rootNode, problems: problemsIn(tree.rootNode, name) };
}

/** Every .bicep and .bicepparam file under infra/, relative names. */
export function listInfraFiles(dir = infraRoot): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return listInfraFiles(path);
      return entry.isFile() && /\.bicep(param)?$/.test(entry.name) ? [relative(infraRoot, path).split('\\').join('/')] : [];
    })
    .sort();
}

export async function loadInfra(overrides: Record<string, string> = {}): Promise<Map<string, BicepFile>> {
  const files = new Map<string, BicepFile>();
  for (const name of listInfraFiles()) {
    files.set(name, await parseBicep(name, overrides[name] ?? readFileSync(join(infraRoot, name), 'utf8')));
  }
  return files;
}

// --- Reading the tree -------------------------------------------------------

export interface Declaration {
  kind: 'param' | 'var' | 'output' | 'resource' | 'module' | 'type' | 'func' | 'metadata';
  name: string;
  node: Node;
  /** Decorator names (`description`, `secure`, ...) with their argument nodes. */
  decorators: { name: string; args: Node[] }[];
}

const DECLARATION_KINDS: Record<string, Declaration['kind']> = {
  parameter_declaration: 'param',
  variable_declaration: 'var',
  output_declaration: 'output',
  resource_declaration: 'resource',
  module_declaration: 'module',
  type_declaration: 'type',
  user_defined_function: 'func',
  metadata_declaration: 'metadata',
};

const named = (node: Node): Node[] => node.namedChildren.filter((child): child is Node => child !== null && child.type !== 'comment');

function decoratorsOf(node: Node): Declaration['decorators'] {
  return named(node)
    .filter((child) => child.type === 'decorator')
    .map((decorator) => {
      const call = named(decorator)[0];
      const fn = call?.childForFieldName('function');
      const args = call?.childForFieldName('arguments');
      return { name: fn?.text ?? '', args: args ? named(args) : [] };
    });
}

/** Top-level declarations of a file, each with the decorators written above it. */
export function declarations(file: BicepFile, kind?: Declaration['kind']): Declaration[] {
  const result: Declaration[] = [];
  let pending: Declaration['decorators'] = [];
  for (const child of named(file.root)) {
    if (child.type === 'decorators') {
      pending = decoratorsOf(child);
      continue;
    }
    const declarationKind = DECLARATION_KINDS[child.type];
    if (!declarationKind) {
      pending = [];
      continue;
    }
    const name = child.childForFieldName('name')?.text ?? named(child).find((c) => c.type === 'identifier')?.text ?? '';
    result.push({ kind: declarationKind, name, node: child, decorators: pending });
    pending = [];
  }
  return kind ? result.filter((declaration) => declaration.kind === kind) : result;
}

/** The value of a param (its default), var, output or metadata declaration. */
export function declaredValue(declaration: Declaration): Node | undefined {
  const children = named(declaration.node);
  if (declaration.kind === 'param') return children[2];
  if (declaration.kind === 'var' || declaration.kind === 'metadata') return children[1];
  if (declaration.kind === 'output') return children[2];
  return undefined;
}

export interface ResourceDeclaration {
  symbol: string;
  /** e.g. `Microsoft.Storage/storageAccounts@2023-05-01`; nested ones as written (`blobServices`). */
  type: string;
  existing: boolean;
  /** The resource body object, unwrapped from `if (...)` and `[for ...]`. */
  body: Node;
  /** The `if (...)` condition, when the resource is conditional. */
  condition: Node | undefined;
  file: string;
  node: Node;
}

function unwrapBody(node: Node): { body: Node | undefined; condition: Node | undefined } {
  if (node.type === 'object') return { body: node, condition: undefined };
  if (node.type === 'if_statement') {
    const [condition, body] = named(node);
    return { body, condition };
  }
  if (node.type === 'for_statement') {
    const body = node.childForFieldName('body') ?? named(node).at(-1);
    return body ? unwrapBody(body) : { body: undefined, condition: undefined };
  }
  return { body: undefined, condition: undefined };
}

/** Every resource declaration in a file, nested ones included. */
export function resources(file: BicepFile): ResourceDeclaration[] {
  return file.root.descendantsOfType('resource_declaration').flatMap((node) => {
    if (!node) return [];
    const [symbol, type] = named(node);
    const last = named(node).at(-1);
    const { body, condition } = last ? unwrapBody(last) : { body: undefined, condition: undefined };
    if (!symbol || !type || !body) return [];
    return [
      {
        symbol: symbol.text,
        type: stringLiteral(type) ?? type.text,
        existing: node.children.some((child) => child?.type === 'existing'),
        body,
        condition,
        file: file.name,
        node,
      },
    ];
  });
}

/** Module declarations: symbol, path as written, and body. */
export function modules(file: BicepFile): { symbol: string; path: string; body: Node; condition: Node | undefined }[] {
  return declarations(file, 'module').flatMap(({ node }) => {
    const [symbol, path] = named(node);
    const last = named(node).at(-1);
    const { body, condition } = last ? unwrapBody(last) : { body: undefined, condition: undefined };
    return symbol && path && body ? [{ symbol: symbol.text, path: stringLiteral(path) ?? path.text, body, condition }] : [];
  });
}

/** Properties of an object literal, in order (nested resource declarations left out). */
export function properties(object: Node | undefined): { key: string; value: Node; node: Node }[] {
  if (object?.type !== 'object') return [];
  return named(object).flatMap((property) => {
    if (property.type !== 'object_property') return [];
    const children = named(property);
    const [keyNode] = children;
    const value = children.at(-1);
    if (!keyNode || !value || keyNode.type === 'resource_declaration' || children.length < 2) return [];
    const key = keyNode.type === 'string' ? (stringLiteral(keyNode) ?? keyNode.text) : keyNode.text;
    return [{ key, value, node: property }];
  });
}

/** Follows a dotted path of property names (`properties.siteConfig.minTlsVersion`) through object literals. */
export function property(object: Node | undefined, path: string): Node | undefined {
  let current = object;
  for (const key of path.split('.')) {
    if (!current) return undefined;
    current = properties(current).find((p) => p.key === key)?.value;
  }
  return current;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", $: '$' };

/** The value of a string literal without interpolation, or undefined. */
export function stringLiteral(node: Node | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  let value = '';
  for (const child of node.children) {
    if (!child) continue;
    if (child.type === 'interpolation') return undefined;
    if (child.type === "'" || child.type === "'''") continue;
    if (child.type === 'string_content') value += child.text;
    else if (child.text.startsWith('\\')) value += ESCAPES[child.text.slice(1)] ?? child.text.slice(1);
    else value += child.text;
  }
  return node.text.startsWith("'''") ? value.replace(/^\r?\n/, '') : value;
}

/** Named children without comments. */
export const namedChildren = named;

// --- Evaluating the literal parts of expressions ------------------------------

/** What the evaluator cannot know offline (resource properties, module outputs, ...). */
export const UNKNOWN = Symbol('unknown');
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value } | typeof UNKNOWN;

export interface Scope {
  /** Identifier values (parameters, variables). */
  names: Map<string, Value>;
  /** What `readEnvironmentVariable` sees; missing names use the call's default. */
  env?: Record<string, string>;
}

const isKnown = (values: Value[]): values is Exclude<Value, typeof UNKNOWN>[] => values.every((value) => value !== UNKNOWN);

/** ARM's string(): booleans become True/False, objects and arrays JSON. */
function armString(value: Exclude<Value, typeof UNKNOWN>): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

function call(name: string, args: Value[], scope: Scope): Value {
  if (name === 'readEnvironmentVariable') {
    const [variable, fallback] = args;
    if (typeof variable !== 'string') return UNKNOWN;
    return scope.env?.[variable] ?? (fallback === undefined ? UNKNOWN : fallback);
  }
  if (!isKnown(args)) return UNKNOWN;
  const [first, second] = args;
  switch (name) {
    case 'string':
      return first === undefined ? UNKNOWN : armString(first);
    case 'int':
      return typeof first === 'string' && /^-?\d+$/.test(first.trim()) ? Number(first) : typeof first === 'number' ? first : UNKNOWN;
    case 'bool':
      if (typeof first === 'boolean') return first;
      return typeof first === 'string' && /^(true|false)$/i.test(first) ? first.toLowerCase() === 'true' : UNKNOWN;
    case 'empty':
      if (first === null || first === undefined) return true;
      if (typeof first === 'string' || Array.isArray(first)) return first.length === 0;
      return typeof first === 'object' ? Object.keys(first).length === 0 : UNKNOWN;
    case 'join':
      if (!Array.isArray(first) || typeof second !== 'string' || !isKnown(first)) return UNKNOWN;
      return first.map((item) => (item === null ? '' : armString(item))).join(second);
    case 'split':
      return typeof first === 'string' && typeof second === 'string' ? first.split(second) : UNKNOWN;
    case 'toLower':
      return typeof first === 'string' ? first.toLowerCase() : UNKNOWN;
    case 'concat':
      return args.every(Array.isArray) ? (args as Value[][]).flat() : args.map((arg) => armString(arg)).join('');
    case 'union':
      return args.every((arg) => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) ? Object.assign({}, ...args) : UNKNOWN;
    default:
      return UNKNOWN;
  }
}

/** Evaluates what can be known from the text alone; everything else is UNKNOWN. */
export function evaluate(node: Node | undefined, scope: Scope): Value {
  if (!node) return UNKNOWN;
  switch (node.type) {
    case 'string': {
      let value = '';
      for (const child of node.children) {
        if (!child || child.type === "'" || child.type === "'''") continue;
        if (child.type === 'interpolation') {
          const inner = evaluate(named(child)[0], scope);
          if (inner === UNKNOWN) return UNKNOWN;
          value += armString(inner);
        } else if (child.type === 'string_content') value += child.text;
        else if (child.text.startsWith('\\')) value += ESCAPES[child.text.slice(1)] ?? child.text.slice(1);
        else value += child.text;
      }
      return node.text.startsWith("'''") ? value.replace(/^\r?\n/, '') : value;
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'identifier':
      return scope.names.has(node.text) ? (scope.names.get(node.text) as Value) : UNKNOWN;
    case 'parenthesized_expression':
      return named(node).length === 1 ? evaluate(named(node)[0], scope) : UNKNOWN;
    case 'array': {
      const items = named(node).map((item) => evaluate(item, scope));
      return isKnown(items) ? items : UNKNOWN;
    }
    case 'object': {
      const result: Record<string, Value> = {};
      for (const { key, value } of properties(node)) {
        const evaluated = evaluate(value, scope);
        if (evaluated === UNKNOWN) return UNKNOWN;
        result[key] = evaluated;
      }
      return result;
    }
    case 'ternary_expression': {
      const condition = evaluate(node.childForFieldName('condition') ?? undefined, scope);
      if (typeof condition !== 'boolean') return UNKNOWN;
      return evaluate(node.childForFieldName(condition ? 'consequence' : 'alternative') ?? undefined, scope);
    }
    case 'unary_expression': {
      const operator = node.childForFieldName('operator')?.type;
      const argument = evaluate(node.childForFieldName('argument') ?? undefined, scope);
      if (operator === '!' && typeof argument === 'boolean') return !argument;
      if (operator === '-' && typeof argument === 'number') return -argument;
      return UNKNOWN;
    }
    case 'binary_expression': {
      const operator = node.childForFieldName('operator')?.type;
      const left = evaluate(node.childForFieldName('left') ?? undefined, scope);
      const right = evaluate(node.childForFieldName('right') ?? undefined, scope);
      if (operator === '??') return left === null ? right : left;
      if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
      if (operator === '==') return JSON.stringify(left) === JSON.stringify(right);
      if (operator === '!=') return JSON.stringify(left) !== JSON.stringify(right);
      if (operator === '&&' && typeof left === 'boolean' && typeof right === 'boolean') return left && right;
      if (operator === '||' && typeof left === 'boolean' && typeof right === 'boolean') return left || right;
      return UNKNOWN;
    }
    case 'call_expression': {
      const fn = node.childForFieldName('function');
      const args = node.childForFieldName('arguments');
      if (!fn || fn.type !== 'identifier' || !args) return UNKNOWN;
      return call(
        fn.text,
        named(args).map((arg) => evaluate(arg, scope)),
        scope,
      );
    }
    default:
      return UNKNOWN;
  }
}
